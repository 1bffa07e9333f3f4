"""Occupancy given directly as levels (``[btk]``): constant, or piecewise constant in time."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from rimmodel.config.parameters import BTKParameters


@dataclass(frozen=True)
class PiecewiseConstantOccupancy:
    """Occupancy levels holding on (start, next start].

    Left-continuous on purpose: the implicit stepper evaluates occupancy at the end
    of each step, and the stepper lands on every start time, so the step ending at a
    start time still sees the old level and the next step the new one.
    """

    starts: tuple[float, ...]
    cns_levels: tuple[float, ...]
    peripheral_levels: tuple[float, ...]

    @classmethod
    def from_parameters(cls, btk: BTKParameters) -> "PiecewiseConstantOccupancy":
        if not btk.schedule:
            return cls((0.0,), (btk.cns_occupancy,), (btk.peripheral_occupancy,))
        steps = btk.schedule
        if steps[0].start > 0.0:  # untreated until the first step
            return cls((0.0,) + tuple(s.start for s in steps), (0.0,) + tuple(s.cns for s in steps),
                       (0.0,) + tuple(s.peripheral for s in steps))
        return cls(tuple(s.start for s in steps), tuple(s.cns for s in steps),
                   tuple(s.peripheral for s in steps))

    def _index(self, t: float) -> int:
        return max(bisect.bisect_left(self.starts, t) - 1, 0)

    def cns(self, t: float) -> float:
        return self.cns_levels[self._index(t)]

    def peripheral(self, t: float) -> float:
        return self.peripheral_levels[self._index(t)]

    def breakpoints(self) -> tuple[float, ...]:
        """Times where occupancy jumps: the stepper lands on them exactly."""
        return self.starts[1:]
