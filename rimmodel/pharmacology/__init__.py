"""BTK-inhibitor pharmacology: dosing -> exposure -> target occupancy -> the model's two BTK effects."""

from __future__ import annotations

from rimmodel.config.parameters import ModelConfig
from rimmodel.pharmacology.schedule import PiecewiseConstantOccupancy


def occupancy_course(config: ModelConfig):
    """The drug's course when ``[treatment]`` names one, else the ``[btk]`` occupancy."""
    if config.treatment.drug == "none":
        return PiecewiseConstantOccupancy.from_parameters(config.btk)
    from rimmodel.pharmacology.course import PharmacologicalOccupancy, resolve_exposure
    from rimmodel.pharmacology.drugs import DRUGS

    drug = DRUGS[config.treatment.drug]
    return PharmacologicalOccupancy(resolve_exposure(drug, config.treatment, config.time.end), config.treatment)
