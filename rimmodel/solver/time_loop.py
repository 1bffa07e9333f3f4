"""The adaptive time loop: land on output times, reject and retry failed steps."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from rimmodel.interrupts import Interrupted
from rimmodel.solver.stepper import BDFStepper

_GROWTH = 1.5          # step growth after a retry, back toward the target step
_MAX_BDF2_RATIO = 2.0  # variable-step BDF2 is zero-stable for ratios below 1 + sqrt(2)


class SolverFailure(RuntimeError):
    """The step size fell below dt_min without an acceptable step."""

    def __init__(self, t: float, dt: float, reason: str):
        super().__init__(f"time step failed at t = {t:.6g} yr: {reason}; step reduced to {dt:.3g} yr, "
                         f"below time.dt_min")
        self.t, self.dt, self.reason = t, dt, reason


@dataclass
class StepRecord:
    time: float         # time reached (accepted) or attempted from (rejected)
    dt: float
    accepted: bool
    reason: str
    newton_iterations: int
    linear_iterations: int
    wall_time: float    # s


def stop_times(t_end: float, output_interval: float, extra: Iterable[float] = ()) -> list[float]:
    """Output times (every interval, and the end) merged with other times to land on."""
    count = int(math.floor(t_end / output_interval + 1e-9))
    times = {round(k * output_interval, 12) for k in range(1, count + 1)} | {t_end}
    times |= {t for t in extra if 0.0 < t < t_end}
    return sorted(times)


def integrate(stepper: BDFStepper, t_end: float, dt_target: float, dt_min: float,
              stops: list[float], outputs: set[float], on_step: Callable[[StepRecord], None],
              on_output: Callable[[float, float], None], start: tuple[float, float] | None = None,
              stop_requested: Callable[[], str] | None = None) -> float:
    """Advance to t_end, landing on every stop and calling ``on_output(t, dt)`` at outputs.

    ``dt`` is the step the loop would try next: with ``start = (t, dt)`` from an
    output, a restarted loop (and stepper state) continues exactly as before.
    ``stop_requested()`` is asked after every step (collectively); a signal name
    it returns ends the loop with ``Interrupted``.
    """
    t, dt = start if start is not None else (0.0, dt_target)
    for stop in (s for s in stops if s - t > 1e-12 * max(1.0, s)):
        while stop - t > 1e-12 * max(1.0, stop):
            step = _next_step(stop - t, dt, stepper.previous_dt, stepper.order)
            started = time.perf_counter()
            outcome = stepper.try_step(t, step)
            wall = time.perf_counter() - started
            if outcome.accepted:
                stepper.accept(step)
                t = stop if abs(stop - (t + step)) < 1e-12 * max(1.0, stop) else t + step
                dt = min(dt_target, dt * _GROWTH)
            else:
                dt = step / 2
            on_step(StepRecord(t, step, outcome.accepted, outcome.reason, outcome.newton_iterations,
                               outcome.linear_iterations, wall))
            if stop_requested is not None and (signal_name := stop_requested()):
                raise Interrupted(signal_name, t=t)
            if not outcome.accepted and dt < dt_min:
                raise SolverFailure(t, dt, outcome.reason)
        if stop in outputs:
            on_output(t, dt)
    return t


def _next_step(remaining: float, dt: float, previous_dt: float | None, order: int) -> float:
    if order == 2 and previous_dt is not None:
        dt = min(dt, _MAX_BDF2_RATIO * previous_dt)
    if dt >= remaining:
        return remaining
    # equal steps to the stop time rather than a sliver at the end
    return remaining / math.ceil(remaining / dt - 1e-9)
