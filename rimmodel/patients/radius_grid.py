"""From a few lesion runs of different seeded radii to a lesion of any radius and age.

A lesion's edge is a front whose advance depends little on its radius, so a lesion of initial
(equivalent) radius r0 gets the edge advance dr(t) of the grid runs interpolated linearly in r0 (held at the
nearest grid radius outside the grid), radius r0 + dr(t) and the sphere's volume; extensive
quantities travel as densities relative to the run's lesion size, q(t) = Q(t) / size(t), blended
the same way, times that volume. At a grid radius (a run's initial equivalent radius) this returns
the run itself (in 3D terms).

A lesion seen with radius R at its own age a (a baseline lesion formed a years before
randomisation) is the one whose seed r0 grows to R by age a: r0 + dr(a; r0) = R, which is
piecewise linear in r0 and inverted exactly; its course is then read from age a on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rimmodel.patients.trajectories import LesionCourses, sphere_volume

EXTENSIVE = ("rim_size", "axon_loss", "tissue_loss", "iron_rim_size")
SMALLEST_SEED = 0.01  # mm: a seed found by inversion is kept above this (a lesion cannot be younger than its seed)


@dataclass
class RadiusGrid:
    radii: np.ndarray                  # (radii,) seeded radii, ascending
    time: np.ndarray                   # (stored,) yr
    advance: np.ndarray                # (radii, stored) mm since t = 0
    density: dict[str, np.ndarray]     # EXTENSIVE name -> (radii, stored), per unit lesion size

    @classmethod
    def from_runs(cls, runs: list, context: str) -> "RadiusGrid":
        """``runs``: entries (``.time``, ``.series``) of one lesion class, by ascending seed radius. The grid
        radii are the runs' equivalent radii at time 0 (the seed's smooth edge measured as the lesion is), so
        a lesion of a grid radius gets that run's course exactly."""
        stored = runs[0].time
        if any(run.time.shape != stored.shape or np.any(run.time != stored) for run in runs):
            raise ValueError(f"{context}: runs of one class have different output times")
        radius = np.array([run.series["lesion_equivalent_radius"] for run in runs])
        size = np.array([run.series["lesion_size"] for run in runs])
        size = np.where(size > 0, size, np.inf)
        density = {name: np.array([run.series[name] for run in runs]) / size for name in EXTENSIVE}
        if np.any(np.diff(radius[:, 0]) <= 0):
            raise ValueError(f"{context}: the seeded lesions' radii do not increase with the seed radius")
        return cls(radius[:, 0].copy(), stored, radius - radius[:, :1], density)

    def seed_radius(self, radius: np.ndarray, age: np.ndarray) -> np.ndarray:
        """The seeded radius of lesions whose radius is ``radius`` at their own ``age`` (yr)."""
        radius, age = np.asarray(radius, float), np.broadcast_to(np.asarray(age, float), np.shape(radius))
        seed = radius.copy()
        for value in np.unique(age):
            if value <= 0.0:
                continue
            chosen = age == value
            advance = np.array([np.interp(value, self.time, row) for row in self.advance])
            grown = np.maximum.accumulate(self.radii + advance)  # a larger seed is never a smaller lesion
            wanted = radius[chosen]
            inside = np.interp(wanted, grown, self.radii)
            below, above = wanted - advance[0], wanted - advance[-1]
            seed[chosen] = np.where(wanted < grown[0], below, np.where(wanted > grown[-1], above, inside))
        return np.maximum(seed, SMALLEST_SEED)

    def courses(self, radius: np.ndarray, times: np.ndarray, age=0.0) -> LesionCourses:
        """Lesions of radius ``radius`` at their own ``age`` (scalar or one per lesion), at ``age + times``."""
        radius = np.asarray(radius, float)
        age = np.broadcast_to(np.asarray(age, float), radius.shape)
        seed = self.seed_radius(radius, age)
        read = age[:, None] + np.asarray(times, float)[None, :]            # (lesions, times)
        # linear in time, then in the seed radius, on only the two grid rows each lesion needs
        stored = self.time
        step = np.clip(np.searchsorted(stored, read, side="right") - 1, 0, max(stored.size - 2, 0))
        after = np.minimum(step + 1, stored.size - 1)
        span = np.where(after > step, stored[after] - stored[step], 1.0)
        late = np.clip((read - stored[step]) / span, 0.0, 1.0)
        low, high, weight = _bracket(self.radii, seed)

        def blend(values):
            def row(index):
                index = index[:, None]
                return (1.0 - late) * values[index, step] + late * values[index, after]
            return (1.0 - weight)[:, None] * row(low) + weight[:, None] * row(high)

        edge = seed[:, None] + blend(self.advance)
        volume = sphere_volume(edge)
        extensive = {name: blend(values) * volume for name, values in self.density.items()}
        return LesionCourses(edge, volume, extensive["rim_size"], extensive["axon_loss"], extensive["tissue_loss"],
                             extensive["iron_rim_size"])


def _bracket(grid: np.ndarray, values: np.ndarray):
    """Indices and weights of linear interpolation on ``grid``, held at the ends."""
    if grid.size == 1:
        zeros = np.zeros(values.size, int)
        return zeros, zeros, np.zeros(values.size)
    low = np.clip(np.searchsorted(grid, values) - 1, 0, grid.size - 2)
    weight = np.clip((values - grid[low]) / (grid[low + 1] - grid[low]), 0.0, 1.0)
    return low, low + 1, weight
