"""Cheap analytic models with known answers, for checking the inference and the pipeline.

``linear_gaussian``: y = A theta + b. With normal priors on theta and Gaussian errors the posterior
is Gaussian in closed form (conjugate update), which MCMC and ABC-SMC must reproduce.
``logistic_growth``: the size of a logistic front at a few times, nonlinear in (rate, capacity);
a cheap stand-in for the lesion model in recovery and coverage checks.
"""

from __future__ import annotations

import numpy as np

LINEAR_MATRIX = np.array([[1.0, 0.5], [0.3, -1.0], [0.8, 0.8]])
LINEAR_OFFSET = np.array([0.2, -0.1, 0.0])
LOGISTIC_TIMES = (1.0, 2.0, 4.0, 8.0)


def linear_gaussian(theta: dict[str, float]) -> dict[str, float]:
    x = np.array([theta["theta1"], theta["theta2"]])
    y = LINEAR_MATRIX @ x + LINEAR_OFFSET
    return {f"y{j + 1}": float(v) for j, v in enumerate(y)}


def logistic_growth(theta: dict[str, float]) -> dict[str, float]:
    """Size at LOGISTIC_TIMES of logistic growth from 0.05 with rate r and capacity K."""
    rate, capacity = theta["rate"], theta["capacity"]
    out = {}
    for t in LOGISTIC_TIMES:
        out[f"size_at_{t:g}"] = float(capacity / (1.0 + (capacity / 0.05 - 1.0) * np.exp(-rate * t)))
    return out


ANALYTIC_MODELS = {"linear_gaussian": linear_gaussian, "logistic_growth": logistic_growth}


def conjugate_posterior(matrix: np.ndarray, offset: np.ndarray, observed: np.ndarray, noise_sd: np.ndarray,
                        prior_mean: np.ndarray, prior_sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of theta | y for y = A theta + b + e, e ~ N(0, diag(noise_sd^2)), theta ~ N(m, diag(s^2))."""
    noise_precision = np.diag(1.0 / noise_sd**2)
    precision = matrix.T @ noise_precision @ matrix + np.diag(1.0 / prior_sd**2)
    covariance = np.linalg.inv(precision)
    mean = covariance @ (matrix.T @ noise_precision @ (observed - offset) + prior_mean / prior_sd**2)
    return mean, covariance
