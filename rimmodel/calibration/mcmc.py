"""MCMC with emcee (affine-invariant ensemble sampler, Goodman & Weare 2010) on the unit cube,
and its diagnostics (ArviZ: rank-normalised split R-hat and bulk ESS over walkers; emcee:
acceptance fraction and integrated autocorrelation time)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass
class Chains:
    unit: np.ndarray              # (walkers, kept steps, d) after burn-in
    log_posterior: np.ndarray     # (walkers, kept steps)
    acceptance: np.ndarray        # (walkers,)
    autocorrelation: np.ndarray   # (d,) integrated autocorrelation time in steps (nan if too short)

    @property
    def flat(self) -> np.ndarray:
        return self.unit.reshape(-1, self.unit.shape[-1])


def sample(log_posterior: Callable[[np.ndarray], np.ndarray], dimension: int, walkers: int, steps: int,
           burn: int, seed: int, start: np.ndarray | None = None) -> Chains:
    """``log_posterior`` takes (n, d) unit points and returns (n,) values (vectorised)."""
    import emcee

    if walkers < 2 * dimension:
        raise ValueError(f"mcmc.walkers = {walkers}: emcee needs at least 2 x {dimension} parameters")
    if not 0 <= burn < steps:
        raise ValueError(f"mcmc.burn = {burn} must lie in [0, steps = {steps})")
    rng = np.random.default_rng(seed)
    initial = _initial(log_posterior, dimension, walkers, rng, start)
    sampler = emcee.EnsembleSampler(walkers, dimension, log_posterior, vectorize=True)
    sampler._random = np.random.mtrand.RandomState(seed)  # emcee's own stream, seeded: reproducible chains
    sampler.run_mcmc(initial, steps, progress=False)
    chain = np.swapaxes(sampler.get_chain(discard=burn), 0, 1)
    log_prob = np.swapaxes(sampler.get_log_prob(discard=burn), 0, 1)
    try:
        tau = sampler.get_autocorr_time(discard=burn, quiet=True)
    except Exception:  # emcee raises when the chain is far too short for an estimate
        tau = np.full(dimension, np.nan)
    return Chains(chain, log_prob, np.asarray(sampler.acceptance_fraction), np.asarray(tau))


def _initial(log_posterior, dimension, walkers, rng, start) -> np.ndarray:
    """Walkers start at prior draws of finite posterior (or around ``start``)."""
    points = []
    while len(points) < walkers:
        if start is None:
            trial = rng.uniform(0.0, 1.0, (4 * walkers, dimension))
        else:
            trial = np.clip(start + 0.01 * rng.standard_normal((4 * walkers, dimension)), 1e-6, 1 - 1e-6)
        finite = np.isfinite(log_posterior(trial))
        points.extend(trial[finite][:walkers - len(points)])
    return np.asarray(points)


def diagnostics(chains: Chains, names: list[str]) -> dict[str, dict[str, float]]:
    """Per parameter: R-hat, bulk and tail ESS (ArviZ, walkers as chains), autocorrelation time."""
    import arviz as az

    data = {name: chains.unit[:, :, j] for j, name in enumerate(names)}
    tree = az.from_dict({"posterior": data})
    rhat, bulk, tail = az.rhat(tree), az.ess(tree, method="bulk"), az.ess(tree, method="tail")
    return {name: {"r_hat": _scalar(rhat, name), "ess_bulk": _scalar(bulk, name), "ess_tail": _scalar(tail, name),
                   "autocorrelation_steps": float(chains.autocorrelation[j])}
            for j, name in enumerate(names)}


def _scalar(result, name: str) -> float:
    value = result[name] if not hasattr(result, "posterior") else result.posterior[name]
    return float(np.asarray(getattr(value, "values", value)))
