"""An arm's BTK occupancy as the lesion runs see it: piecewise-constant levels over time.

A regimen is resolved through ``rimmodel.pharmacology`` (dosing -> exposure -> occupancy on an
hourly grid); each interval of ``resolution`` years then holds the exact mean of the resolved
occupancy over it, rounded to ``digits`` decimals, and equal neighbours merge. The course is
thereby a small hashable value: lesion runs are cached by it, and a lesion that forms at time
t_f sees ``course.tail(t_f)``. Rounding to 2 digits moves occupancy by at most 0.005; the
within-interval swings it averages are what ``pharmacology.course.averaging_error`` measures.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from rimmodel.config.treatment import TreatmentParameters

HOURS_PER_YEAR = 365.25 * 24.0


@dataclass(frozen=True)
class OccupancyCourse:
    """Levels ``(start yr, cns, peripheral)``; each holds from its start to the next (first start 0)."""

    steps: tuple[tuple[float, float, float], ...] = ((0.0, 0.0, 0.0),)

    @classmethod
    def untreated(cls) -> "OccupancyCourse":
        return cls()

    @classmethod
    def from_regimen(cls, treatment: TreatmentParameters, horizon: float, resolution: float = 0.1,
                     digits: int = 2) -> "OccupancyCourse":
        """Interval means of the regimen's CNS and peripheral occupancy up to ``horizon`` years."""
        from rimmodel.pharmacology.course import resolve_exposure
        from rimmodel.pharmacology.drugs import DRUGS

        if treatment.drug == "none":
            return cls.untreated()
        exposure = resolve_exposure(DRUGS[treatment.drug], treatment, horizon)
        hours = exposure.grid_h
        edges = np.arange(0.0, horizon - 1e-9, resolution)
        levels = []
        for low, high in zip(edges, np.append(edges[1:], horizon)):
            inside = (hours >= low * HOURS_PER_YEAR) & (hours < high * HOURS_PER_YEAR)
            if not inside.any():
                break
            levels.append((round(float(low), 6), round(float(exposure.cns_occupancy[inside].mean()), digits),
                           round(float(exposure.peripheral_occupancy[inside].mean()), digits)))
        return cls(_merge(levels))

    def tail(self, start: float) -> "OccupancyCourse":
        """The course seen from ``start`` on, with ``start`` as time 0."""
        current = max(i for i, step in enumerate(self.steps) if step[0] <= start + 1e-12)
        later = [(round(s - start, 6), c, p) for s, c, p in self.steps[current + 1:]]
        return OccupancyCourse(_merge([(0.0, *self.steps[current][1:]), *later]))

    def delayed(self, start: float) -> "OccupancyCourse":
        """Untreated until ``start``, then this course (shifted to begin there): what a lesion that is
        ``start`` years old at randomisation sees over its life."""
        if start <= 0.0 or self.is_untreated:
            return self
        return OccupancyCourse(_merge([(0.0, 0.0, 0.0), *((round(s + start, 6), c, p) for s, c, p in self.steps)]))

    def level(self, t: float) -> tuple[float, float]:
        current = max(i for i, step in enumerate(self.steps) if step[0] <= t + 1e-12)
        return self.steps[current][1:]

    @property
    def is_untreated(self) -> bool:
        return all(c == 0.0 and p == 0.0 for _, c, p in self.steps)

    def btk_table(self) -> dict:
        """The ``[btk]`` section that makes a run follow this course."""
        if len(self.steps) == 1:
            return {"cns_occupancy": self.steps[0][1], "peripheral_occupancy": self.steps[0][2], "schedule": []}
        return {"schedule": [{"start": s, "cns": c, "peripheral": p} for s, c, p in self.steps]}

    def label(self) -> str:
        return json.dumps([list(step) for step in self.steps])

    def mean_cns(self, end: float) -> float:
        """Time-averaged CNS occupancy over [0, end]."""
        starts = [s for s, _, _ in self.steps] + [math.inf]
        total = sum(c * max(0.0, min(starts[i + 1], end) - s) for i, (s, c, _) in enumerate(self.steps) if s < end)
        return total / end


def _merge(levels: list[tuple[float, float, float]]) -> tuple[tuple[float, float, float], ...]:
    merged: list[tuple[float, float, float]] = []
    for step in levels:
        if not merged or merged[-1][1:] != step[1:]:
            merged.append(step)
    return tuple(merged) or ((0.0, 0.0, 0.0),)
