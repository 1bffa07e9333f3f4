"""Occupancy time courses from a dosing regimen, in the form the equations use.

Plasma and CSF exposure and BTK occupancy are resolved on an hourly-scale grid;
the PDE steps weeks at a time, so ``cns(t)`` and ``peripheral(t)`` return the
occupancy averaged over the dosing interval ending at t, which removes the
within-day swings a point sample would alias. ``averaging_error`` measures what
that costs against the exact mean over each PDE step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rimmodel.config.treatment import TreatmentParameters
from rimmodel.pharmacology.drugs import Drug

HOURS_PER_YEAR = 365.25 * 24.0


def dose_schedule(treatment: TreatmentParameters, end_h: float) -> tuple[np.ndarray, np.ndarray]:
    """Dose times (h) and amounts (mg); missed doses drawn with the given adherence and seed."""
    first, last = treatment.start * HOURS_PER_YEAR, min(treatment.stop * HOURS_PER_YEAR, end_h)
    times = np.arange(first, last - 1e-9, treatment.interval_h) if last > first else np.zeros(0)
    taken = np.random.default_rng(treatment.seed).random(times.size) < treatment.adherence
    return times[taken], np.full(int(taken.sum()), treatment.dose_mg)


@dataclass
class ExposureCourse:
    grid_h: np.ndarray
    plasma_ng_per_ml: np.ndarray
    peripheral_occupancy: np.ndarray   # B cells, from unbound plasma
    cns_occupancy: np.ndarray          # microglia, from unbound CSF


def resolve_exposure(drug: Drug, treatment: TreatmentParameters, end_yr: float) -> ExposureCourse:
    step = treatment.resolution_h
    grid = np.arange(0.0, end_yr * HOURS_PER_YEAR + step, step)
    times, doses = dose_schedule(treatment, grid[-1])
    plasma = drug.pk.plasma_concentration(times, doses, grid)
    unbound = drug.unbound_nm(plasma)
    return ExposureCourse(grid, plasma, drug.binding.occupancy(unbound, step),
                          drug.binding.occupancy(drug.csf_partition * unbound, step))


class PharmacologicalOccupancy:
    """``cns(t)``, ``peripheral(t)`` (t in yr): occupancy averaged over the dosing interval ending at t."""

    def __init__(self, exposure: ExposureCourse, treatment: TreatmentParameters):
        self.exposure = exposure
        self.treatment = treatment
        window = max(int(round(treatment.interval_h / treatment.resolution_h)), 1)
        self._cns = _trailing_mean(exposure.cns_occupancy, window)
        self._peripheral = _trailing_mean(exposure.peripheral_occupancy, window)

    def _at(self, series: np.ndarray, t_yr: float) -> float:
        return float(np.interp(t_yr * HOURS_PER_YEAR, self.exposure.grid_h, series))

    def cns(self, t: float) -> float:
        return self._at(self._cns, t)

    def peripheral(self, t: float) -> float:
        return self._at(self._peripheral, t)

    def breakpoints(self) -> tuple[float, ...]:
        return tuple(t for t in (self.treatment.start, self.treatment.stop) if 0.0 < t < 1e3)


def _trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    counts = np.minimum(np.arange(1, values.size + 1), window)
    return (cumulative[1:] - cumulative[np.maximum(np.arange(1, values.size + 1) - window, 0)]) / counts


def averaging_error(course: PharmacologicalOccupancy, pde_step_yr: float) -> float:
    """Largest |exact mean CNS occupancy over a PDE step - the value the stepper uses (at its end)|."""
    grid, resolved = course.exposure.grid_h, course.exposure.cns_occupancy
    edges = np.arange(0.0, grid[-1] / HOURS_PER_YEAR + 1e-12, pde_step_yr)
    errors = []
    for low, high in zip(edges[:-1], edges[1:]):
        inside = (grid >= low * HOURS_PER_YEAR) & (grid < high * HOURS_PER_YEAR)
        errors.append(abs(resolved[inside].mean() - course.cns(high)))
    return float(max(errors))
