"""Observation operators: how the runs of one parameter set produce the model's counterpart of
each observation. Pure numpy on run records (no FEM stack).

A parameter set is run as a *quantile cohort*: K lesions that differ only in one lesion-level
parameter (by default the microglial activation rate), multiplied by exp(sigma_L z_k) at the
normal quantiles z_k = Phi^-1((k - 1/2) / K). Quantities of the lesion population are read off
the cohort by interpolating in z, which keeps every operator a continuous function of the
parameters (what an emulator needs):

* a lesion's rim lifetime L(z) is the time its rim (iron or microglial) falls to zero after
  having been present, interpolated between outputs; a rim still present at the end is
  censored at the horizon (a lower bound);
* the population's survival is S(t) = P(L > t) = 1 - Phi(z*(t)) with L(z*) = t, so the median
  rim lifetime of the lesions that ever had a rim is L at the median z of that subpopulation:
  what a Kaplan-Meier median over a large cohort of lesions estimates;
* the share of lesions whose rim is present at time `at` is 1 - Phi(z*(at)), and the share that
  ever forms one is 1 - Phi(z*(0+));
* a share of lesions past a signal level (T1 black holes) is read the same way from the
  signal's crossing of that level in z;
* a population mean (iron density by lesion age) is the mean over the cohort's quantiles.
The z = 0 ("median") lesion gives the single-lesion read-outs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

RIM_SERIES = {"iron": "iron_rim_size", "microglia": "rim_size"}
Z_LIMIT = 4.0  # population quantiles beyond +-4 sd are treated as all or none


@dataclass
class LesionRun:
    """One cohort lesion's output series (time in yr, scalar observables by name)."""

    z: float
    time: np.ndarray
    series: dict[str, np.ndarray]


def cohort_quantiles(lesions: int) -> np.ndarray:
    return ndtri((np.arange(lesions) + 0.5) / lesions)


def rim_lifetime(run: LesionRun, rim: str = "iron") -> float:
    """Time the rim disappears: its last decline before the first empty output, continued to zero
    (kept between the two outputs); the horizon if it never disappears (censored); 0 if it never
    appeared."""
    size, time = run.series[RIM_SERIES[rim]], run.time
    present = np.flatnonzero(size > 0.0)
    if present.size == 0:
        return 0.0
    after = np.flatnonzero((np.arange(size.size) > present[0]) & (size <= 0.0))
    if after.size == 0:
        return float(time[-1])
    k = after[0]
    if k >= 2 and size[k - 2] > size[k - 1]:  # continue the last decline to zero (exact for a linear one)
        reach = time[k - 1] + size[k - 1] * (time[k - 1] - time[k - 2]) / (size[k - 2] - size[k - 1])
        return float(min(max(reach, time[k - 1]), time[k]))
    return float(0.5 * (time[k - 1] + time[k]))


def _value_at_quantile(z: np.ndarray, values: np.ndarray, target: float) -> float:
    """values(z) at z = target: piecewise linear through the cohort, flat beyond its ends."""
    return float(np.interp(target, z, values))


def _quantile_of_value(z: np.ndarray, values: np.ndarray, level: float) -> float:
    """The z at which the (non-decreasing) lifetime curve reaches ``level``: piecewise linear through
    the cohort, extended linearly by its end segments, clipped to +-Z_LIMIT (continuous in ``level``
    and in the cohort's values)."""
    values = np.maximum.accumulate(values)  # lifetime does not fall with a faster-activating lesion
    if z.size == 1:
        return -Z_LIMIT if values[0] >= level else Z_LIMIT
    if level <= values[0]:
        k = 1
    elif level > values[-1]:
        k = z.size - 1
    else:
        k = max(1, int(np.searchsorted(values, level)))  # values[k-1] < level <= values[k]
    low, high = values[k - 1], values[k]
    if high <= low:  # a flat end segment: the whole tail is on one side of the level
        return -Z_LIMIT if level <= low else Z_LIMIT
    return float(np.clip(z[k - 1] + (level - low) / (high - low) * (z[k] - z[k - 1]), -Z_LIMIT, Z_LIMIT))


def _lifetimes(cohort: list[LesionRun], rim: str) -> tuple[np.ndarray, np.ndarray]:
    z = np.array([run.z for run in cohort])
    lifetimes = np.array([rim_lifetime(run, rim) for run in cohort])
    order = np.argsort(z)
    return z[order], lifetimes[order]


def _rim_onset_quantile(z: np.ndarray, lifetimes: np.ndarray) -> float:
    """The z above which lesions form a rim. Lifetime rises from zero with a kink there, so the first
    two lesions with a rim are continued linearly down to zero (kept between the last lesion without a
    rim and the first with one); -inf if every lesion has a rim, +Z_LIMIT if none has."""
    lifetimes = np.maximum.accumulate(lifetimes)
    if lifetimes[0] > 0.0:
        return -np.inf
    if lifetimes[-1] <= 0.0:
        return Z_LIMIT
    k = int(np.flatnonzero(lifetimes > 0.0)[0])
    if k + 1 < z.size and lifetimes[k + 1] > lifetimes[k]:
        onset = z[k] - lifetimes[k] * (z[k + 1] - z[k]) / (lifetimes[k + 1] - lifetimes[k])
        return float(np.clip(onset, z[k - 1], z[k]))
    return _quantile_of_value(z, lifetimes, np.nextafter(0.0, 1.0))


def cohort_median_rim_lifetime(cohort: list[LesionRun], rim: str = "iron") -> float:
    """Median rim lifetime of the lesions that ever had a rim (censored values count at the horizon)."""
    z, lifetimes = _lifetimes(cohort, rim)
    if np.all(lifetimes <= 0.0):
        return 0.0
    start = _rim_onset_quantile(z, lifetimes)
    median_z = ndtri(0.5 * (1.0 + ndtr(start)))
    return _value_at_quantile(z, np.maximum.accumulate(lifetimes), median_z)


def cohort_rim_fraction(cohort: list[LesionRun], rim: str = "iron", at: float = 1.0) -> float:
    """Share of the lesion population whose rim is still present at time ``at``."""
    z, lifetimes = _lifetimes(cohort, rim)
    return float(1.0 - ndtr(_quantile_of_value(z, lifetimes, at)))


def cohort_rim_formed_fraction(cohort: list[LesionRun], rim: str = "iron") -> float:
    """Share of the lesion population that ever forms a rim (within the follow-up)."""
    return float(1.0 - ndtr(_rim_onset_quantile(*_lifetimes(cohort, rim))))


def _window_mean(run: LesionRun, values: np.ndarray, start: float, end: float) -> float:
    """Time average over [start, end] of a series (trapezoids on the outputs, ends interpolated)."""
    inside = (run.time > start) & (run.time < end)
    time = np.concatenate([[start], run.time[inside], [end]])
    series = np.concatenate([[np.interp(start, run.time, values)], values[inside], [np.interp(end, run.time, values)]])
    return float(np.sum(0.5 * (series[1:] + series[:-1]) * np.diff(time)) / (end - start))


def cohort_mean_density_ratio(cohort: list[LesionRun], quantity: str = "iron_total", per: str = "lesion_size",
                              early: tuple = (0.25, 4.0), late: tuple = (4.0, 10.6)) -> float:
    """Population mean of quantity/per (a density inside the lesion) over lesion ages ``late``, divided
    by the same over ages ``early``: how much of an age class's signal is left in an older class."""
    for run in cohort:
        if run.time[-1] < late[1] - 1e-9:
            raise ValueError(f"cohort_mean_density_ratio needs lesions followed to {late[1]} yr; the cohort "
                             f"ends at {run.time[-1]:g} yr (raise cohort.years)")
    density = [run.series[quantity] / np.maximum(run.series[per], np.finfo(float).tiny) for run in cohort]
    early_mean = np.mean([_window_mean(run, d, *early) for run, d in zip(cohort, density)])
    late_mean = np.mean([_window_mean(run, d, *late) for run, d in zip(cohort, density)])
    return float(late_mean / early_mean) if early_mean > 0 else math.nan


def lesion_mean_t1(run: LesionRun, at: float) -> float:
    """T1 of a white-matter lesion (NAWM units) from its mean myelin, axon and tissue loss at time ``at``,
    through the synthetic-MRI forward model (rimmodel.mri.contrasts, default MRI parameters). All loss
    is counted inside the lesion volume (myelin < threshold)."""
    from rimmodel.mri.contrasts import WHITE_MATTER, tissue_signals
    from rimmodel.mri.parameters import MRIParameters

    volume = np.interp(at, run.time, run.series["lesion_size"])
    if volume <= 0.0:
        return 1.0  # no lesion: normal-appearing white matter
    lost = {name: min(np.interp(at, run.time, run.series[f"{name}_loss"]) / volume, 1.0)
            for name in ("myelin", "axon", "tissue")}
    state = {"myelin": np.array([1.0 - lost["myelin"]]), "axons": np.array([1.0 - lost["axon"]]),
             "microglia": np.zeros(1), "tissue": np.array([1.0 - lost["tissue"]])}
    return float(tissue_signals(np.array([WHITE_MATTER]), state, MRIParameters())["t1"][0])


def cohort_black_hole_fraction(cohort: list[LesionRun], at: float = 0.75) -> float:
    """Share of the lesion population whose lesion-mean T1 (``lesion_mean_t1``) is at or below the
    synthetic MRI's black-hole level at time ``at``; darker lesions are taken to be the faster-activating ones."""
    from rimmodel.mri.parameters import MRIParameters

    order = np.argsort([run.z for run in cohort])
    z = np.array([cohort[k].z for k in order])
    darkness = -np.array([lesion_mean_t1(cohort[k], at) for k in order])
    return float(1.0 - ndtr(_quantile_of_value(z, darkness, -MRIParameters().black_hole_threshold)))


def median_lesion(cohort: list[LesionRun]) -> LesionRun:
    return min(cohort, key=lambda run: abs(run.z))


def _window(run: LesionRun, name: str, start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
    kept = (run.time >= start - 1e-9) & (run.time <= end + 1e-9)
    if kept.sum() < 2:
        raise ValueError(f"observation window [{start}, {end}] yr holds fewer than 2 outputs of {name}")
    return run.time[kept], run.series[name][kept]


def median_lesion_edge_advance(cohort: list[LesionRun], start: float = 1.0, end: float = 4.0) -> float:
    """Slope (mm/yr) of the median lesion's equivalent radius over [start, end] (least squares)."""
    time, radius = _window(median_lesion(cohort), "lesion_equivalent_radius", start, end)
    return float(np.polyfit(time, radius, 1)[0])


def median_lesion_radius_change(cohort: list[LesionRun], start: float = 0.0, end: float = 3.5) -> float:
    run = median_lesion(cohort)
    radius = run.series["lesion_equivalent_radius"]
    return float(np.interp(end, run.time, radius) - np.interp(start, run.time, radius))


def median_lesion_iron_peak_time(cohort: list[LesionRun]) -> float:
    """Time of the median lesion's largest total iron, refined by a parabola through the peak output."""
    run = median_lesion(cohort)
    iron, time = run.series["iron_total"], run.time
    k = int(np.argmax(iron))
    if 0 < k < iron.size - 1:
        left, middle, right = iron[k - 1:k + 2]
        curvature = left - 2 * middle + right
        if curvature < 0:
            shift = 0.5 * (left - right) / curvature
            return float(time[k] + shift * 0.5 * (time[k + 1] - time[k - 1]))
    return float(time[k])


def median_lesion_value(cohort: list[LesionRun], observable: str, at: float) -> float:
    """A scalar observable of the median lesion at time ``at`` (linear interpolation)."""
    run = median_lesion(cohort)
    if observable not in run.series:
        raise ValueError(f"observable {observable!r} not recorded; one of {', '.join(run.series)}")
    return float(np.interp(at, run.time, run.series[observable]))


OPERATORS = {
    "cohort_median_rim_lifetime": cohort_median_rim_lifetime,
    "cohort_rim_fraction": cohort_rim_fraction,
    "cohort_rim_formed_fraction": cohort_rim_formed_fraction,
    "cohort_mean_density_ratio": cohort_mean_density_ratio,
    "cohort_black_hole_fraction": cohort_black_hole_fraction,
    "median_lesion_edge_advance": median_lesion_edge_advance,
    "median_lesion_radius_change": median_lesion_radius_change,
    "median_lesion_iron_peak_time": median_lesion_iron_peak_time,
    "median_lesion_value": median_lesion_value,
}


def apply(operator: str, cohort: list[LesionRun], arguments: dict) -> float:
    value = OPERATORS[operator](cohort, **arguments)
    return value if math.isfinite(value) else math.nan
