"""BTK-inhibitor occupancy over time, seen by the equations as two numbers in [0, 1].

The equations only call ``cns(t)`` and ``peripheral(t)``; anything with those two
methods can drive them: rimmodel.pharmacology builds them from ``[btk]`` levels
(``schedule.PiecewiseConstantOccupancy``) or from a dosing regimen (``course``).
"""

from __future__ import annotations

from typing import Protocol


class OccupancyCourse(Protocol):
    def cns(self, t: float) -> float:
        """Fraction of microglial (CNS) BTK occupied at time t (yr)."""

    def peripheral(self, t: float) -> float:
        """Fraction of peripheral B-cell BTK occupied at time t (yr)."""
