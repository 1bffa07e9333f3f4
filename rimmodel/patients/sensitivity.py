"""The reported hazard ratio over the disability model's documented choices.

Each variant changes one choice of ``[disability]`` or ``[endpoints]``, recalibrates the scale to
the same placebo target (when the design calibrates), and re-reads the same simulated patients:
lesions, relapses and measurement noise stay fixed, so the table isolates the choice.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from rimmodel.config import ConfigError

from rimmodel.patients.analysis import cox_hazard_ratio
from rimmodel.patients.conduct import conduct_trial
from rimmodel.patients.disability import DisabilityModel, Endpoints, calibrate_scale, component_norms


@dataclass
class Variant:
    label: str
    disability: dict
    endpoints: dict


def variants(design) -> list[Variant]:
    cutoff = 5.0 if design.endpoints.edss_cutoff != 5.0 else 5.5
    return [
        Variant("as designed", {}, {}),
        Variant("confirmed after 3 months", {}, {"confirmation": 0.25}),
        Variant("confirmed after 12 months", {}, {"confirmation": 1.0}),
        Variant(f"step cutoff at EDSS {cutoff:g}", {}, {"edss_cutoff": cutoff}),
        Variant("increase sustained at every visit", {}, {"sustained": True}),
        Variant("measurement sd 0.15", {"measurement_sd": 0.15}, {}),
        Variant("measurement sd 0.5", {"measurement_sd": 0.5}, {}),
        Variant("no patient-to-patient susceptibility", {"susceptibility_sigma": 0.0}, {}),
        Variant("susceptibility sd 1.0", {"susceptibility_sigma": 1.0}, {}),
        Variant("equal location weights", {"location_weights": [1.0, 1.0, 1.0]}, {}),
        Variant("lesions carry 60 %", _shares(0.6, 0.15, 0.1, 0.15), {}),
        Variant("cortex carries 50 %", _shares(0.2, 0.5, 0.1, 0.2), {}),
        Variant("ageing carries 50 %", _shares(0.2, 0.15, 0.15, 0.5), {}),
        Variant("no ageing component", _shares(0.45, 0.35, 0.2, 0.0), {}),
        Variant("relapses leave no trace", {"relapse_residual": [0.0, 0.0], "relapse_transient": 0.0}, {}),
    ]


def _shares(lesion, cortex, tissue, ageing) -> dict:
    return {"lesion_share": lesion, "cortex_share": cortex, "tissue_share": tissue, "ageing_share": ageing}


@dataclass
class SensitivityRow:
    label: str
    scale: float
    placebo_calibrated: float          # event proportion reached in the calibration cohort
    placebo_proportion: float          # in the trial's placebo arm (first replicate)
    hazard_ratio: dict                 # arm -> (first replicate HR, low, high, median over replicates, 2.5 %, 97.5 %)
    note: str = ""                     # why a variant could not be evaluated


def sensitivity_table(design, calibration_cohort, trials, names: list[str]) -> list[SensitivityRow]:
    """``trials``: (courses, cohort arrays) of each replicate."""
    rows = []
    for variant in variants(design):
        disability = dataclasses.replace(design.disability, **variant.disability)
        endpoints = dataclasses.replace(design.endpoints, **variant.endpoints)
        norms = component_norms(calibration_cohort, disability)
        try:
            scale, calibrated = _scale(design, calibration_cohort, disability, endpoints, norms)
        except ConfigError as error:  # e.g. a 12-month confirmation in a 1-year trial
            nothing = (float("nan"),) * 6
            rows.append(SensitivityRow(variant.label, float("nan"), float("nan"), float("nan"),
                                       {name: nothing for name in names[1:]}, note=str(error)))
            continue
        ratios: dict[str, list] = {name: [] for name in names[1:]}
        placebo = float("nan")
        for replicate, (courses, cohort) in enumerate(trials):
            table = conduct_trial(courses, cohort, design, disability, endpoints, scale, norms)
            if replicate == 0:
                placebo = float(table.event[table.arm == 0].mean())
            for i, name in enumerate(names[1:], start=1):
                pair = (table.arm == 0) | (table.arm == i)
                ratios[name].append(cox_hazard_ratio(table.time[pair], table.event[pair],
                                                     (table.arm[pair] == i).astype(float)))
        summary = {}
        for name, estimates in ratios.items():
            values = np.array([e.value for e in estimates])
            spread = np.nanpercentile(values, [50, 2.5, 97.5]) if np.isfinite(values).any() else [np.nan] * 3
            summary[name] = (estimates[0].value, estimates[0].low, estimates[0].high, *map(float, spread))
        rows.append(SensitivityRow(variant.label, scale, calibrated, placebo, summary))
    return rows


def _scale(design, cohort, disability: DisabilityModel, endpoints: Endpoints, norms) -> tuple[float, float]:
    from rimmodel.patients.disability import event_proportion

    target = design.calibration.placebo_event_proportion
    if target > 0:
        found = calibrate_scale(cohort, disability, endpoints, norms, target, design.calibration.follow_up)
        return found.scale, found.achieved
    scale = design.calibration.scale
    return scale, event_proportion(cohort, disability, endpoints, scale, norms, design.calibration.follow_up)
