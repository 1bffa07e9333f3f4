"""The calibration likelihood: observed values against a predictor of the model's counterparts.

On each observation's likelihood scale z_j (log, logit or linear),

    z_obs,j ~ N( mu_j(theta), s_em,j(theta)^2 + s_obs,j^2 + s_disc,j^2 ),

with mu, s_em^2 the emulator's mean and variance (0 for an exact model), s_obs from the
observation's published interval and s_disc the model-discrepancy sd (the structural error of
the model, Kennedy & O'Hagan 2001; set per calibration). Observations are independent given
theta. History matching uses the same three variances (Vernon et al. 2010).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

# predictor(unit points (n, d)) -> (mean (n, k), variance (n, k)) on the likelihood scales
Predictor = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass
class Targets:
    names: list[str]
    observed: np.ndarray       # (k,) on the likelihood scale
    sd_observation: np.ndarray  # (k,)
    sd_discrepancy: np.ndarray  # (k,)

    def total_variance(self, emulator_variance: np.ndarray) -> np.ndarray:
        return emulator_variance + self.sd_observation**2 + self.sd_discrepancy**2


def log_likelihood(targets: Targets, mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    total = targets.total_variance(variance)
    return -0.5 * np.sum((targets.observed - mean) ** 2 / total + np.log(2 * np.pi * total), axis=-1)


def implausibility(targets: Targets, mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """(n, k) implausibility of each point for each observation."""
    return np.abs(targets.observed - mean) / np.sqrt(targets.total_variance(variance))


def log_posterior_unit(predictor: Predictor, targets: Targets) -> Callable[[np.ndarray], np.ndarray]:
    """Vectorised log posterior on the unit cube (uniform prior there; -inf outside)."""
    def log_posterior(unit: np.ndarray) -> np.ndarray:
        unit = np.atleast_2d(unit)
        inside = np.all((unit > 0.0) & (unit < 1.0), axis=1)
        result = np.full(unit.shape[0], -np.inf)
        if inside.any():
            mean, variance = predictor(unit[inside])
            result[inside] = log_likelihood(targets, mean, variance)
        return result
    return log_posterior
