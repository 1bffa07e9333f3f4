"""Groups of ranks and a shared work counter: dynamic load balancing without a master rank.

COMM_WORLD is split into groups of ``ranks_per_run``; each group's leader takes
the next pending sample with an atomic fetch-and-add on a counter held in an MPI
window on world rank 0, so fast groups take more samples than slow ones and no
rank idles as a dispatcher. The same window counts finished and failed samples
for the progress line, and holds a stop flag: a group stopped by a signal or an
error raises it, and the others take no new sample (they finish the one they have).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from rimmodel.config import ConfigError
from rimmodel.fem import MPI

NEXT, FINISHED, FAILED, STOP = 0, 1, 2, 3
_COUNTERS = 4


def split_into_groups(comm, ranks_per_run: int):
    """(group communicator, group index, number of groups)."""
    if comm.size % ranks_per_run:
        raise ConfigError(f"study.ranks_per_run = {ranks_per_run} does not divide the {comm.size} MPI ranks; "
                          f"allowed: a divisor of {comm.size}")
    group = comm.rank // ranks_per_run
    return comm.Split(color=group, key=comm.rank), group, comm.size // ranks_per_run


class SharedCounters:
    """Four int64 counters on world rank 0: next slot, finished, failed, stop."""

    def __init__(self, comm):
        self.comm = comm
        size = _COUNTERS * 8 if comm.rank == 0 else 0
        self.window = MPI.Win.Allocate(size, disp_unit=8, comm=comm)
        if comm.rank == 0:
            self.window.Lock(0)
            self.window.Put(np.zeros(_COUNTERS, dtype=np.int64), 0)
            self.window.Unlock(0)
        comm.Barrier()

    def add(self, which: int, amount: int = 1) -> int:
        """Atomically add; returns the value before."""
        before = np.zeros(1, dtype=np.int64)
        self.window.Lock(0, MPI.LOCK_SHARED)
        self.window.Fetch_and_op(np.array([amount], dtype=np.int64), before, 0, target_disp=which, op=MPI.SUM)
        self.window.Unlock(0)
        return int(before[0])

    def next_slot(self) -> int | None:
        """The next slot to run, or None once any group has asked all to stop."""
        return None if self.add(STOP, 0) else self.add(NEXT)

    def read(self) -> np.ndarray:
        values = np.zeros(_COUNTERS, dtype=np.int64)
        self.window.Lock(0, MPI.LOCK_SHARED)
        self.window.Get(values, 0)
        self.window.Unlock(0)
        return values

    def free(self) -> None:
        self.comm.Barrier()
        self.window.Free()


class Progress:
    """One line per finished sample: done / failed / remaining and an ETA from this session's pace."""

    def __init__(self, total: int, already_done: int, pending: int, stream=sys.stdout):
        self.total, self.already_done, self.pending, self.stream = total, already_done, pending, stream
        self.started = time.perf_counter()

    def report(self, finished_now: int, failed_now: int, index: int, status: str) -> None:
        remaining = self.pending - finished_now
        elapsed = time.perf_counter() - self.started
        eta = elapsed / finished_now * remaining if finished_now else float("nan")
        print(f"study: sample {index} {status}; {self.already_done + finished_now}/{self.total} done "
              f"({failed_now} failed this session), {remaining} remaining, "
              f"elapsed {_clock(elapsed)}, ETA {_clock(eta)}", file=self.stream, flush=True)


def _clock(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "--:--"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
