"""Oral pharmacokinetics: first-order absorption into a one- or two-compartment body.

Linear, so it is integrated exactly: between doses the amounts evolve by the
matrix exponential of the rate matrix over each grid step; a dose adds F * D to
the gut at its time. Units: h, mg, L, ng/mL (= ug/L = mg/m^3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import expm


@dataclass(frozen=True)
class OralPK:
    absorption_rate: float        # ka, 1/h
    clearance: float              # CL/F, L/h (apparent, oral)
    central_volume: float         # V1/F, L
    intercompartmental: float = 0.0   # Q/F, L/h (0: one compartment)
    peripheral_volume: float = 1.0    # V2/F, L

    @property
    def elimination_rate(self) -> float:
        return self.clearance / self.central_volume

    def rate_matrix(self) -> np.ndarray:
        """d/dt [gut, central, peripheral] amounts (mg)."""
        ka, k10 = self.absorption_rate, self.elimination_rate
        k12 = self.intercompartmental / self.central_volume
        k21 = self.intercompartmental / self.peripheral_volume
        return np.array([[-ka, 0.0, 0.0], [ka, -(k10 + k12), k21], [0.0, k12, -k21]])

    def plasma_concentration(self, dose_times_h: np.ndarray, doses_mg: np.ndarray, grid_h: np.ndarray) -> np.ndarray:
        """Total plasma concentration (ng/mL) on a uniform grid; doses snap to the grid step they fall in."""
        step = grid_h[1] - grid_h[0]
        propagator = expm(self.rate_matrix() * step)
        dose_index = np.searchsorted(grid_h, dose_times_h - 1e-9 * step)
        added = np.zeros(grid_h.size)
        np.add.at(added, dose_index[dose_index < grid_h.size], doses_mg[dose_index < grid_h.size])
        amounts, central = np.zeros(3), np.empty(grid_h.size)
        for i in range(grid_h.size):
            amounts[0] += added[i]
            central[i] = amounts[1]
            amounts = propagator @ amounts
        return central / self.central_volume * 1e3  # mg/L -> ng/mL

    def single_dose(self, dose_mg: float, t_h: np.ndarray) -> np.ndarray:
        """Closed form for one compartment (Bateman function), ng/mL."""
        ka, k = self.absorption_rate, self.elimination_rate
        return dose_mg * ka / (self.central_volume * (ka - k)) * (np.exp(-k * t_h) - np.exp(-ka * t_h)) * 1e3

    def steady_state_average(self, dose_mg: float, interval_h: float) -> float:
        """Mean concentration over a dosing interval at steady state, F D / (CL tau), ng/mL."""
        return dose_mg / (self.clearance * interval_h) * 1e3


def half_life_to_clearance(half_life_h: float, volume_l: float) -> float:
    return math.log(2) / half_life_h * volume_l
