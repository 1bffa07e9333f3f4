"""History matching: cut the parameter space to where the emulated model could match the data.

A point is implausible when, for some calibration observation, the emulator's mean is more than
``cutoff`` (3, Pukelsheim's three-sigma rule) total standard deviations from the observed value
(emulator, observation and discrepancy variances; Vernon, Goldstein & Bower 2010). The rest is
"not ruled out yet" (NROY); the next wave's design is drawn from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

from rimmodel.calibration.likelihood import Predictor, Targets, implausibility


@dataclass
class Wave:
    nroy_fraction: float          # share of the prior's unit cube not ruled out
    candidates: int
    design: np.ndarray            # the next wave's points (unit space), drawn from NROY
    max_implausibility: np.ndarray  # per candidate


def max_implausibility(predictor: Predictor, targets: Targets, unit: np.ndarray, batch: int = 4096) -> np.ndarray:
    result = np.empty(unit.shape[0])
    for start in range(0, unit.shape[0], batch):
        mean, variance = predictor(unit[start:start + batch])
        result[start:start + batch] = implausibility(targets, mean, variance).max(axis=1)
    return result


def space_filling(points: int, dimension: int, seed: int) -> np.ndarray:
    """A Latin hypercube optimised for centred discrepancy (scipy.stats.qmc)."""
    return qmc.LatinHypercube(d=dimension, optimization="random-cd", rng=np.random.default_rng(seed)).random(points)


def next_wave(predictor: Predictor, targets: Targets, dimension: int, points: int, candidates: int, seed: int,
              cutoff: float = 3.0, inside: np.ndarray | None = None) -> Wave:
    """Candidates from a scrambled Sobol' sequence (restricted to ``inside``'s NROY test if given);
    the next design is a maximin subset of the non-implausible ones."""
    sobol = qmc.Sobol(d=dimension, scramble=True, rng=np.random.default_rng(seed))
    pool = sobol.random_base2(max(1, int(np.ceil(np.log2(candidates)))))  # balanced: a power of 2
    worst = max_implausibility(predictor, targets, pool)
    kept = worst < cutoff
    if inside is not None:
        kept &= inside(pool)
    nroy = pool[kept]
    if nroy.shape[0] == 0:  # nothing plausible: take the least implausible points and say so
        nroy = pool[np.argsort(worst)[:max(points, 1)]]
    return Wave(float(kept.mean()), candidates, maximin_subset(nroy, points, seed), worst)


def maximin_subset(pool: np.ndarray, points: int, seed: int) -> np.ndarray:
    """Greedy farthest-point selection: a spread-out subset of ``pool``."""
    if pool.shape[0] <= points:
        return pool.copy()
    rng = np.random.default_rng(seed)
    chosen = [int(rng.integers(pool.shape[0]))]
    distance = np.linalg.norm(pool - pool[chosen[0]], axis=1)
    for _ in range(points - 1):
        chosen.append(int(np.argmax(distance)))
        distance = np.minimum(distance, np.linalg.norm(pool - pool[chosen[-1]], axis=1))
    return pool[chosen]
