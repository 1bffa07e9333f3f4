"""What the fit says: posterior-predictive checks per observation, which targets the model cannot
meet together, and which parameters the data leave unidentified."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from rimmodel.calibration.likelihood import Targets, implausibility
from rimmodel.calibration.observations import Observation, from_scale

PRIOR_UNIT_SD = 1.0 / np.sqrt(12.0)
UNIDENTIFIED = 0.7  # posterior sd over prior sd (unit space) above which the data barely inform a parameter


@dataclass
class Check:
    observation: Observation
    model: tuple[float, float, float]         # 5 %, 50 %, 95 % of the model counterpart (natural units)
    measurement: tuple[float, float]           # 90 % interval of a new measurement (model + discrepancy + error)
    standardised: float                        # (observed - model median) / total sd, on the likelihood scale
    consistent: bool


def check(observation: Observation, model_values: np.ndarray, discrepancy: float, seed: int) -> Check:
    values = np.asarray(model_values, float)
    values = values[np.isfinite(values)]
    z = observation.transform(values)
    rng = np.random.default_rng(seed)
    spread = np.sqrt(observation.sd**2 + discrepancy**2) if not observation.lower_bound_only else discrepancy
    measured = z + spread * rng.standard_normal(z.size)
    low, high = (float(v) for v in from_scale(np.percentile(measured, [5, 95]), observation.scale))
    model = tuple(float(v) for v in np.percentile(values, [5, 50, 95]))
    total = np.sqrt(np.var(z) + spread**2)
    standardised = float((observation.observed - np.median(z)) / total) if total > 0 else 0.0
    if observation.lower_bound_only:
        consistent = bool(np.mean(values > observation.value) >= 0.95)
    else:
        consistent = bool(low <= observation.value <= high)
    return Check(observation, model, (low, high), standardised, consistent)


@dataclass
class Identification:
    name: str
    prior: tuple[float, float, float]      # 5/50/95 % (physical)
    posterior: tuple[float, float, float]
    contraction: float                      # posterior sd / prior sd, in the prior's unit space

    @property
    def identified(self) -> bool:
        return self.contraction < UNIDENTIFIED


def identification(priors, posterior_unit: np.ndarray) -> list[Identification]:
    found = []
    grid = np.array([0.05, 0.5, 0.95])
    for j, prior in enumerate(priors):
        column = posterior_unit[:, j]
        physical = prior.to_physical(column)
        found.append(Identification(prior.name, tuple(float(v) for v in prior.to_physical(grid)),
                                    tuple(float(v) for v in np.percentile(physical, [5, 50, 95])),
                                    float(np.std(column) / PRIOR_UNIT_SD)))
    return found


def joint_reach(targets: Targets, mean: np.ndarray, variance: np.ndarray, cutoff: float = 3.0) -> dict:
    """Share of the screened points within ``cutoff`` for each target, each pair, and all together."""
    close = implausibility(targets, mean, variance) < cutoff
    names = targets.names
    single = {name: float(close[:, j].mean()) for j, name in enumerate(names)}
    pairs = {(a, b): float((close[:, i] & close[:, j]).mean())
             for (i, a), (j, b) in itertools.combinations(enumerate(names), 2)}
    return {"single": single, "pairs": pairs, "all": float(close.all(axis=1).mean())}


def conflicts(reach: dict) -> list[str]:
    """Targets no point reaches, and pairs each reachable alone but never together."""
    lines = [f"{name}: no screened parameter set comes within the cutoff"
             for name, share in reach["single"].items() if share == 0.0]
    for (a, b), share in reach["pairs"].items():
        if share == 0.0 and reach["single"][a] > 0 and reach["single"][b] > 0:
            lines.append(f"{a} and {b}: each is reachable ({100 * reach['single'][a]:.1f} % and "
                         f"{100 * reach['single'][b]:.1f} % of the space) but never together")
    return lines
