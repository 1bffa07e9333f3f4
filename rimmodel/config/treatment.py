"""The ``[treatment]`` section: an oral BTK-inhibitor regimen (drug library in rimmodel/pharmacology)."""

from __future__ import annotations

from dataclasses import dataclass

from rimmodel.config.spec import param

DRUG_CHOICES = ("none", "tolebrutinib", "evobrutinib", "fenebrutinib", "remibrutinib")


@dataclass
class TreatmentParameters:
    drug: str = param("none", "-", "Drug-like parameter set driving BTK occupancy (none: use [btk] occupancy)",
                      choices=DRUG_CHOICES)
    dose_mg: float = param(60.0, "mg", "Dose per administration", low=0.0, high=2000.0)
    interval_h: float = param(24.0, "h", "Dosing interval", low=1.0, high=168.0)
    start: float = param(0.0, "yr", "First dose", low=0.0, high=1e3)
    stop: float = param(1e3, "yr", "Discontinuation (no dose at or after this time)", low=0.0, high=1e3)
    adherence: float = param(1.0, "1", "Probability that each scheduled dose is taken", low=0.0, high=1.0)
    seed: int = param(0, "-", "Seed of the missed-dose draws", low=0, high=2**31 - 1)
    resolution_h: float = param(0.25, "h", "Grid step of the pharmacokinetic integration", low=0.01, high=6.0)
