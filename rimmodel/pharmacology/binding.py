"""Target engagement: BTK occupancy from the unbound concentration at the target.

Reversible inhibitors: occupancy = C / (C + IC50), instantaneous.
Covalent inhibitors: dO/dt = k_inact C / (K_I + C) (1 - O) - k_deg O, where k_deg is
BTK resynthesis (ln 2 / half-life): occupancy outlasts plasma exposure and recovers
with the resynthesis half-life once the drug is gone. Integrated exactly over each
grid step with C held constant (a linear ODE in O).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ReversibleBinding:
    ic50_nm: float

    def occupancy(self, unbound_nm: np.ndarray, step_h: float) -> np.ndarray:
        return unbound_nm / (unbound_nm + self.ic50_nm)


@dataclass(frozen=True)
class CovalentBinding:
    inactivation_rate: float        # k_inact, 1/h
    inhibition_constant_nm: float   # K_I, nM
    resynthesis_half_life_h: float

    @property
    def resynthesis_rate(self) -> float:
        return math.log(2) / self.resynthesis_half_life_h

    def occupancy(self, unbound_nm: np.ndarray, step_h: float) -> np.ndarray:
        inactivation = self.inactivation_rate * unbound_nm / (self.inhibition_constant_nm + unbound_nm)
        total = inactivation + self.resynthesis_rate
        equilibrium = inactivation / total
        decay = np.exp(-total * step_h)
        occupied, values = 0.0, np.empty(unbound_nm.size)
        for i in range(unbound_nm.size):
            values[i] = occupied
            occupied = equilibrium[i] + (occupied - equilibrium[i]) * decay[i]
        return values
