"""Progress of one run on rank 0: a bar on a terminal, plain lines anywhere else.

Under Slurm or a pipe there is no terminal and a bar would be one long line of carriage
returns, so the run logs a line at every tenth of its simulated time and at least every
``PLAIN_INTERVAL_S`` of wall time (``rimmodel -q`` silences them, ``-v`` adds every step).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

from rimmodel.logs import LOGGER, quiet

PLAIN_INTERVAL_S = 300.0   # a line at least this often (wall seconds) on long runs
PLAIN_FRACTION = 0.1       # and at every tenth of the simulated time

log = logging.getLogger(f"{LOGGER}.progress")


def run_progress(end_yr: float, start_yr: float = 0.0, stream=None):
    """A bar (``tqdm``) on a terminal, else a ``PlainProgress``; None when ``-q`` asked for quiet.
    ``start_yr``: where a resumed run starts."""
    if quiet():
        return None
    stream = stream or sys.stderr
    if stream.isatty():
        from tqdm import tqdm

        return tqdm(total=end_yr, initial=start_yr, unit="yr", file=stream, leave=False,
                    bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} yr [{elapsed}<{remaining}]")
    return PlainProgress(end_yr, start_yr)


class PlainProgress:
    """Same ``update(dt)``/``close()`` interface as the bar; one log line per milestone."""

    def __init__(self, end_yr: float, start_yr: float = 0.0, clock=time.perf_counter):
        self.end, self.clock, self.start, self.t = end_yr, clock, start_yr, start_yr
        self.started = self.last_line = clock()
        self.next_fraction = PLAIN_FRACTION
        while self.next_fraction <= self._fraction() + 1e-9:
            self.next_fraction += PLAIN_FRACTION

    def _fraction(self) -> float:
        return self.t / self.end if self.end > 0 else 1.0

    def update(self, dt: float) -> None:
        self.t += dt
        log.debug("rimmodel: step to t = %.4g yr (dt = %.3g yr)", self.t, dt)
        fraction = self._fraction()
        now = self.clock()
        if fraction >= self.next_fraction - 1e-9 or now - self.last_line >= PLAIN_INTERVAL_S:
            while self.next_fraction <= fraction + 1e-9:
                self.next_fraction += PLAIN_FRACTION
            elapsed, done = now - self.started, self.t - self.start  # this session's pace
            left = elapsed * (self.end - self.t) / done if done > 0 else float("nan")
            log.info("rimmodel: t = %.2f / %.2f yr (%3.0f%%), %s elapsed, ~%s left",
                     self.t, self.end, 100 * fraction, clock_text(elapsed), clock_text(left))
            self.last_line = now

    def close(self) -> None:
        pass


def clock_text(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "--:--"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def run_stages(command: str, stages: list[tuple[str, Callable]], comm=None) -> list:
    """Call each ``(title, function)`` in turn, logging its start and duration on rank 0;
    returns their results. For the long reports (verify, validate), which were silent until done."""
    results, talk = [], comm is None or comm.rank == 0
    for number, (title, function) in enumerate(stages, 1):
        started = time.perf_counter()
        if talk:
            log.info("rimmodel %s: [%d/%d] %s ...", command, number, len(stages), title)
        results.append(function())
        if talk:
            log.info("rimmodel %s: [%d/%d] %s done in %s", command, number, len(stages), title,
                     clock_text(time.perf_counter() - started))
    return results
