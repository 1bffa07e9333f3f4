"""ABC-SMC (approximate Bayesian computation, sequential Monte Carlo) in batches, written here
so that each generation's simulations run as one study wave (MPI groups, journals, resume).

Population Monte Carlo (Beaumont, Cornuet, Marin & Robert 2009, Biometrika 96:983): generation 0
draws ``proposals`` points from the prior; every later generation draws them from the previous
weighted population, perturbed by a Gaussian kernel with twice its weighted covariance, kept inside
the unit cube by redrawing, and weighted by prior / proposal density.

Acceptance is stochastic, with a Gaussian kernel on the distance d (Euclidean, in units of the
likelihood's error sd sqrt(s_obs^2 + s_disc^2) per observation): a simulation is kept with
probability exp(-d^2 / (2 eps^2)). Wilkinson (2013, Stat Appl Genet Mol Biol 12:129) showed that
with eps = 1 this is exact inference under that error model, so the last generation targets the
same posterior as MCMC on the exact model (pyabc's StochasticAcceptor does the same). Earlier
generations use eps > 1 (a tempered likelihood), chosen so that about ``acceptance`` of the
proposals are kept, and eps falls to 1. A run whose schedule has not reached eps = 1 reports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.stats import multivariate_normal

from rimmodel.calibration.likelihood import Targets


@dataclass
class Generation:
    unit: np.ndarray          # (population, d) accepted particles
    weights: np.ndarray       # normalised importance weights
    distances: np.ndarray
    tolerance: float          # eps of the acceptance kernel (1: exact under the error model)
    simulations: int          # model evaluations this generation

    @property
    def effective_size(self) -> float:
        return float(1.0 / np.sum(self.weights**2))


@dataclass
class ABCResult:
    generations: list[Generation] = field(default_factory=list)

    @property
    def final(self) -> Generation:
        return self.generations[-1]

    @property
    def exact(self) -> bool:
        return self.final.tolerance <= 1.0

    @property
    def simulations(self) -> int:
        return sum(g.simulations for g in self.generations)

    def resample(self, draws: int, seed: int) -> np.ndarray:
        """Equally weighted draws (systematic resampling of the final population)."""
        final = self.final
        rng = np.random.default_rng(seed)
        positions = (rng.uniform() + np.arange(draws)) / draws
        index = np.minimum(np.searchsorted(np.cumsum(final.weights), positions), final.weights.size - 1)
        return final.unit[index]


def propose(previous: Generation | None, count: int, dimension: int, rng: np.random.Generator) -> np.ndarray:
    if previous is None:
        return rng.uniform(0.0, 1.0, (count, dimension))
    covariance = 2.0 * _weighted_covariance(previous.unit, previous.weights)
    chosen: list[np.ndarray] = []
    while sum(len(c) for c in chosen) < count:
        parents = previous.unit[rng.choice(previous.weights.size, size=count, p=previous.weights)]
        trial = parents + rng.multivariate_normal(np.zeros(dimension), covariance, size=count)
        chosen.append(trial[np.all((trial > 0.0) & (trial < 1.0), axis=1)])
    return np.concatenate(chosen)[:count]


def importance_weights(unit: np.ndarray, previous: Generation | None) -> np.ndarray:
    """Prior (uniform on the cube) over the proposal mixture density; normalised."""
    if previous is None:
        return np.full(unit.shape[0], 1.0 / unit.shape[0])
    covariance = 2.0 * _weighted_covariance(previous.unit, previous.weights)
    kernel = multivariate_normal(np.zeros(unit.shape[1]), covariance, allow_singular=True)
    density = np.array([np.sum(previous.weights * kernel.pdf(point - previous.unit)) for point in unit])
    weights = 1.0 / np.maximum(density, 1e-300)
    return weights / weights.sum()


def distances(model_values: np.ndarray, targets: Targets) -> np.ndarray:
    sd = np.sqrt(targets.sd_observation**2 + targets.sd_discrepancy**2)
    found = np.linalg.norm((model_values - targets.observed) / sd, axis=1)
    found[~np.all(np.isfinite(model_values), axis=1)] = np.inf  # failed runs are never accepted
    return found


def tolerance_for(distance: np.ndarray, acceptance: float, previous: float) -> float:
    """The eps >= 1 (and <= the previous one) at which the mean acceptance probability is ``acceptance``."""
    def rate(eps):
        return float(np.mean(np.exp(-0.5 * (distance / eps) ** 2)))

    if rate(1.0) >= acceptance:
        return 1.0
    low, high = 1.0, previous
    if rate(high) < acceptance:
        return high
    for _ in range(60):  # bisection on log eps
        middle = np.sqrt(low * high)
        low, high = (middle, high) if rate(middle) < acceptance else (low, middle)
    return float(high)


def step(previous: Generation | None, unit: np.ndarray, model_values: np.ndarray, targets: Targets,
         population: int, acceptance: float, rng: np.random.Generator) -> Generation:
    """Keep each proposal with probability exp(-d^2 / 2 eps^2); at most ``population`` of them."""
    distance = distances(model_values, targets)
    ceiling = previous.tolerance if previous is not None else float(np.nanmax(distance[np.isfinite(distance)],
                                                                             initial=1.0)) * 10.0
    eps = tolerance_for(distance, acceptance, max(ceiling, 1.0))
    kept = np.flatnonzero(rng.uniform(size=distance.size) < np.exp(-0.5 * (distance / eps) ** 2))[:population]
    if kept.size < 2:
        raise ValueError("ABC-SMC: fewer than 2 proposals accepted; raise abc.proposals")
    return Generation(unit[kept], importance_weights(unit[kept], previous), distance[kept], eps, unit.shape[0])


def run(simulate: Callable[[np.ndarray, int], np.ndarray], targets: Targets, dimension: int, population: int,
        proposals: int, generations: int, seed: int, acceptance: float = 0.2) -> ABCResult:
    """``simulate(unit (n, d), generation) -> model values (n, k)`` on the likelihood scales (NaN: failed).
    Stops early after the first generation at eps = 1."""
    if proposals < population:
        raise ValueError(f"abc.proposals = {proposals} must be at least abc.population = {population}")
    result, previous = ABCResult(), None
    for generation in range(generations):
        rng = np.random.default_rng([seed, generation])
        unit = propose(previous, proposals, dimension, rng)
        previous = step(previous, unit, simulate(unit, generation), targets, population, acceptance, rng)
        result.generations.append(previous)
        if previous.tolerance <= 1.0:
            break
    return result


def _weighted_covariance(unit: np.ndarray, weights: np.ndarray) -> np.ndarray:
    mean = weights @ unit
    centred = unit - mean
    covariance = (weights[:, None] * centred).T @ centred / (1.0 - np.sum(weights**2))
    return covariance + 1e-12 * np.eye(unit.shape[1])
