"""Gaussian-process emulators, one per observable, on the prior's unit space, with exact
leave-one-out errors.

Each observable is standardised (mean 0, sd 1 over the design) and fitted by scikit-learn's
GaussianProcessRegressor with a constant x anisotropic RBF kernel plus a white-noise term (the
runs are deterministic, but the observation operators read thresholds at output times, which
makes them slightly rough). Leave-one-out uses the closed form for a GP with the fitted
hyperparameters (Rasmussen & Williams 2006, Sect. 5.4.2): residual_i = [K^-1 y]_i / [K^-1]_ii,
variance_i = 1 / [K^-1]_ii.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np


@dataclass
class LeaveOneOut:
    residuals: np.ndarray     # observed - predicted, in output units
    sd: np.ndarray            # predictive sd of each left-out point
    output_sd: float          # sd of the observable over the design

    @property
    def rmse(self) -> float:
        return float(np.sqrt(np.mean(self.residuals**2)))

    @property
    def relative_rmse(self) -> float:
        """LOO RMSE over the observable's spread across the design (0: perfect, 1: no better than its mean)."""
        return self.rmse / self.output_sd if self.output_sd > 0 else 0.0

    @property
    def coverage_2sd(self) -> float:
        """Share of left-out points within 2 predictive sd (about 0.95 for a calibrated emulator)."""
        return float(np.mean(np.abs(self.residuals) <= 2 * self.sd))


class Emulator:
    """A GP emulator of one observable y(u) on u in [0, 1]^d."""

    def __init__(self, unit: np.ndarray, y: np.ndarray, seed: int = 0):
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        unit, y = np.atleast_2d(np.asarray(unit, float)), np.asarray(y, float)
        if unit.shape[0] != y.size or y.size < 3:
            raise ValueError(f"an emulator needs at least 3 design points with values, got {y.size}")
        self.mean, self.scale = float(y.mean()), float(y.std()) or 1.0
        standard = (y - self.mean) / self.scale
        d = unit.shape[1]
        kernel = (ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.full(d, 0.3), (1e-2, 1e2))
                  + WhiteKernel(1e-4, (1e-8, 1e-1)))
        self.gp = GaussianProcessRegressor(kernel, normalize_y=False, n_restarts_optimizer=3, random_state=seed)
        with warnings.catch_warnings():
            # a length scale at its upper bound means the observable does not depend on that parameter,
            # a noise level at its lower bound that the runs are deterministic: expected, not faults
            from sklearn.exceptions import ConvergenceWarning
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.gp.fit(unit, standard)
        self.unit, self.standard = unit, standard
        fitted = self.gp.kernel_
        self._amplitude = float(fitted.k1.k1.constant_value)
        self._inverse_length = 1.0 / np.broadcast_to(np.asarray(fitted.k1.k2.length_scale, float), (d,))
        self._prior_variance = self._amplitude + float(fitted.k2.noise_level)   # kernel_.diag: RBF + white
        self._scaled_design = unit * self._inverse_length
        self._inverse_cholesky = np.linalg.inv(self.gp.L_)   # design-sized: cheaper than a solve per call

    def predict(self, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of the emulated observable at ``unit`` (rows of points).

        The GP's own predictive formulas (as GaussianProcessRegressor.predict with return_std) in
        numpy on the fitted kernel: MCMC calls this some 10^5 times, and scikit-learn's input
        validation costs several times the arithmetic."""
        scaled = np.atleast_2d(unit) * self._inverse_length
        squared = ((scaled[:, None, :] - self._scaled_design[None, :, :]) ** 2).sum(axis=-1)
        cross = self._amplitude * np.exp(-0.5 * squared)                  # (n, design); white term is 0 off the diagonal
        mean = cross @ self.gp.alpha_
        v = self._inverse_cholesky @ cross.T
        variance = np.clip(self._prior_variance - np.einsum("ij,ij->j", v, v), 0.0, None)
        return self.mean + self.scale * mean, self.scale**2 * variance

    def leave_one_out(self) -> LeaveOneOut:
        K = self.gp.kernel_(self.unit) + self.gp.alpha * np.eye(self.unit.shape[0])  # as fit() factorises it
        inverse = np.linalg.inv(K)
        diagonal = np.diag(inverse)
        residual = (inverse @ self.standard) / diagonal
        return LeaveOneOut(self.scale * residual, self.scale / np.sqrt(diagonal), self.scale)

    @property
    def length_scales(self) -> np.ndarray:
        return np.atleast_1d(self.gp.kernel_.k1.k2.length_scale)


def fit_emulators(unit: np.ndarray, outputs: dict[str, np.ndarray], seed: int = 0) -> dict[str, Emulator]:
    """One emulator per observable, on the design points where that observable is finite."""
    emulators = {}
    for name, y in outputs.items():
        kept = np.isfinite(y)
        emulators[name] = Emulator(unit[kept], y[kept], seed)
    return emulators
