"""Per-arm summaries and effect sizes against placebo (paired by lesion, bootstrap intervals)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class LesionOutcome:
    expansion_rate: float      # mm/yr, equivalent radius over the follow-up
    sel_volume_change: float   # mm^3, sphere-equivalent volume change
    axon_loss: float           # as the run's axon_loss at the end
    event_time: float | None   # yr of the progression proxy, None if not reached
    mean_cns_occupancy: float


@dataclass
class Effect:
    estimate: float
    low: float
    high: float


def relative_reduction(placebo: np.ndarray, treated: np.ndarray, rng: np.random.Generator,
                       resamples: int) -> Effect:
    """1 - mean(treated)/mean(placebo), lesions resampled in pairs."""
    def statistic(index):
        return 1.0 - treated[index].mean() / placebo[index].mean()

    n = placebo.size
    boot = np.array([statistic(rng.integers(0, n, n)) for _ in range(resamples)])
    return Effect(statistic(np.arange(n)), *np.percentile(boot, [2.5, 97.5]))


def rate_ratio(placebo: list[float | None], treated: list[float | None], years: float,
               rng: np.random.Generator, resamples: int) -> Effect:
    """Hazard-ratio-like summary: ratio of event rates (events / lesion-years at risk), exponential model."""
    def rates(times, index):
        chosen = [times[i] for i in index]
        events = sum(t is not None for t in chosen)
        exposure = sum(years if t is None else t for t in chosen)
        return (events + 0.5) / exposure  # +0.5: finite ratio when an arm has no events

    def statistic(index):
        return rates(treated, index) / rates(placebo, index)

    n = len(placebo)
    boot = np.array([statistic(rng.integers(0, n, n)) for _ in range(resamples)])
    return Effect(statistic(np.arange(n)), *np.percentile(boot, [2.5, 97.5]))
