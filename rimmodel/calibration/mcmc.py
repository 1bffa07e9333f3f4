"""MCMC with emcee (affine-invariant ensemble sampler, Goodman & Weare 2010) on the unit cube, run
until it has converged, and its diagnostics (ArviZ: rank-normalised split R-hat and bulk/tail ESS
over walkers; emcee: acceptance fraction and integrated autocorrelation time).

Convergence (checked every time the chain has grown by a fifth, at least ``check_every`` steps):
the burn-in is a few autocorrelation times (``burn_autocorrelations`` x the largest tau of the
whole chain, at least ``min_burn``); the kept chain must be at least ``autocorrelation_multiple``
times its own largest tau long (emcee's rule of thumb: 50), with R-hat <= ``r_hat_max`` and bulk
and tail ESS >= ``ess_min`` for every parameter. A run that reaches ``max_steps`` first stops there
and says so: ``Chains.converged`` is False and ``Chains.failures`` names what failed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

MOVES = ("differential-evolution", "stretch")


@dataclass(frozen=True)
class Convergence:
    autocorrelation_multiple: float = 50.0
    burn_autocorrelations: float = 5.0
    r_hat_max: float = 1.01
    ess_min: float = 400.0
    min_burn: int = 0
    check_every: int = 1000

    def describe(self) -> str:
        return (f"kept chain >= {self.autocorrelation_multiple:g} autocorrelation times after a burn-in of "
                f"{self.burn_autocorrelations:g}, R-hat <= {self.r_hat_max:g}, bulk and tail ESS >= {self.ess_min:g}")


@dataclass
class Chains:
    unit: np.ndarray              # (walkers, kept steps, d) after burn-in
    log_posterior: np.ndarray     # (walkers, kept steps)
    acceptance: np.ndarray        # (walkers,)
    autocorrelation: np.ndarray   # (d,) integrated autocorrelation time of the kept chain, in steps
    steps: int = 0                # steps per walker run (burn-in included)
    burn: int = 0                 # steps per walker discarded
    max_steps: int = 0            # the cap
    converged: bool = False
    failures: list[str] = field(default_factory=list)   # empty when converged
    criteria: Convergence = field(default_factory=Convergence)
    per_parameter: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def flat(self) -> np.ndarray:
        return self.unit.reshape(-1, self.unit.shape[-1])

    def summary(self) -> dict:
        """What diagnostics.json records about convergence."""
        return {"converged": self.converged, "failures": self.failures, "steps_per_walker": self.steps,
                "burn_in_steps": self.burn, "kept_steps_per_walker": int(self.unit.shape[1]),
                "walkers": int(self.unit.shape[0]), "max_steps": self.max_steps,
                "criteria": {"autocorrelation_multiple": self.criteria.autocorrelation_multiple,
                             "burn_autocorrelations": self.criteria.burn_autocorrelations,
                             "r_hat_max": self.criteria.r_hat_max, "ess_min": self.criteria.ess_min,
                             "min_burn": self.criteria.min_burn}}


def sample(log_posterior: Callable[[np.ndarray], np.ndarray], dimension: int, walkers: int, max_steps: int,
           seed: int, criteria: Convergence = Convergence(), names: list[str] | None = None,
           start: np.ndarray | None = None, moves: str = "differential-evolution") -> Chains:
    """Sample until ``criteria`` hold or ``max_steps`` per walker are run. ``log_posterior`` takes
    (n, d) unit points and returns (n,) values (vectorised)."""
    import emcee

    if walkers < 2 * dimension:
        raise ValueError(f"mcmc.walkers = {walkers}: emcee needs at least 2 x {dimension} parameters")
    if not 0 <= criteria.min_burn < max_steps:
        raise ValueError(f"mcmc.burn = {criteria.min_burn} must lie in [0, steps = {max_steps})")
    names = names or [f"theta{j + 1}" for j in range(dimension)]
    rng = np.random.default_rng(seed)
    state = _initial(log_posterior, dimension, walkers, rng, start)
    sampler = emcee.EnsembleSampler(walkers, dimension, log_posterior, vectorize=True,
                                    moves=_moves(emcee, moves))
    sampler._random = np.random.mtrand.RandomState(seed)  # emcee's own stream, seeded: reproducible chains
    while True:
        grow = max(criteria.check_every, sampler.iteration // 5)
        state = sampler.run_mcmc(state, min(grow, max_steps - sampler.iteration), progress=False)
        chains = assess(sampler, criteria, names, max_steps)
        if chains.converged or sampler.iteration >= max_steps:
            return chains


def _moves(emcee, name: str):
    """Differential evolution (ter Braak & Vrugt 2008) follows ridges between parameters, where the
    stretch move's autocorrelation times grow several-fold (benchmarks/mcmc_moves.py)."""
    if name == "stretch":
        return None
    if name == "differential-evolution":
        return [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]
    raise ValueError(f"mcmc.moves = {name!r}: allowed {', '.join(MOVES)}")


def assess(sampler, criteria: Convergence, names: list[str], max_steps: int) -> Chains:
    """Burn-in, kept chain and the convergence verdict of a sampler's chain so far."""
    from emcee.autocorr import integrated_time

    chain = sampler.get_chain()                       # (steps, walkers, d)
    steps = chain.shape[0]
    whole_tau = integrated_time(chain, tol=0, quiet=True)
    burn = max(criteria.min_burn, int(np.ceil(criteria.burn_autocorrelations * np.nanmax(whole_tau))))
    burn = min(burn, steps - 2)                       # keep something to report on, even if far too short
    kept = chain[burn:]
    tau = integrated_time(kept, tol=0, quiet=True)
    found = Chains(np.swapaxes(kept, 0, 1), np.swapaxes(sampler.get_log_prob()[burn:], 0, 1),
                   np.asarray(sampler.acceptance_fraction), np.asarray(tau), steps, burn, max_steps,
                   criteria=criteria)
    found.per_parameter = diagnostics(found, names)
    found.failures = _failures(found, names)
    found.converged = not found.failures
    if not found.converged and steps >= max_steps:
        found.failures.insert(0, f"cap of {max_steps} steps per walker reached")
    return found


def _failures(chains: Chains, names: list[str]) -> list[str]:
    c, failures = chains.criteria, []
    kept, longest = chains.unit.shape[1], float(np.nanmax(chains.autocorrelation))
    if not np.isfinite(longest) or kept < c.autocorrelation_multiple * longest:
        failures.append(f"kept chain {kept} steps < {c.autocorrelation_multiple:g} x autocorrelation time "
                        f"{longest:.1f}")
    for name in names:
        d = chains.per_parameter[name]
        if not d["r_hat"] <= c.r_hat_max:
            failures.append(f"{name}: R-hat {d['r_hat']:.3f} > {c.r_hat_max:g}")
        if not min(d["ess_bulk"], d["ess_tail"]) >= c.ess_min:
            failures.append(f"{name}: ESS bulk {d['ess_bulk']:.0f}, tail {d['ess_tail']:.0f} < {c.ess_min:g}")
    return failures


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
