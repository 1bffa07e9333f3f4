"""SIGINT and SIGTERM end a run or a study cleanly: after the current time step, on every rank together.

While a run or study is guarded (``deferred_signals``), the handler only notes the
signal. The time loop asks ``stop_requested(comm)`` after each step, which agrees
across the ranks (an allreduce), so all ranks stop at the same step and none is left
waiting in a collective; the run then records ``interrupted`` and keeps its last
checkpoint for ``--resume``. Without this, a KeyboardInterrupt raised inside a PETSc
callback became a PETSc error that the step controller took for a failed step, and
PETSc's own SIGTERM handler printed an error dump and called MPI_Abort.

Under ``mpirun`` (MPICH's hydra) a Ctrl-C or SIGTERM to mpirun is forwarded to every
rank; hydra force-kills on a second Ctrl-C. Serially, a second Ctrl-C raises
KeyboardInterrupt at once (the escape hatch for a long setup phase).
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager

from mpi4py import MPI

SIGNALS = (signal.SIGINT, signal.SIGTERM)

_received: list[str] = []   # signal names noted while guarded, in order
_depth = 0                  # nesting of deferred_signals (a study guards the runs inside it)


class Interrupted(KeyboardInterrupt):
    """A run or study stopped on a signal; ``exit_code`` is the shell's 128 + signal number."""

    def __init__(self, signal_name: str, message: str = "", t: float | None = None):
        super().__init__(message or f"stopped by {signal_name}")
        self.signal_name, self.t = signal_name, t  # t: simulated time reached (yr), if in a run
        self.exit_code = 128 + int(getattr(signal, signal_name, signal.SIGINT))


@contextmanager
def deferred_signals():
    """SIGINT / SIGTERM only note themselves inside this block (main thread only; nests)."""
    global _depth
    if threading.current_thread() is not threading.main_thread():
        yield  # Python delivers signals to the main thread only; nothing to install here
        return
    previous = None
    if _depth == 0:
        _received.clear()
        previous = {number: signal.signal(number, _note) for number in SIGNALS}
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if previous is not None:
            for number, handler in previous.items():  # None: PETSc's C handler; the default replaces it
                signal.signal(number, handler if handler is not None else signal.SIG_DFL)


def stop_requested(comm) -> str:
    """The signal that stops this run, agreed by every rank of ``comm`` ("" to go on). Collective."""
    local = _received[0] if _received else ""
    return comm.allreduce(local, op=MPI.MAX) if comm.size > 1 else local


def received() -> str:
    """The first signal noted on this rank since the outermost guard began ("" if none)."""
    return _received[0] if _received else ""


def _note(number: int, frame) -> None:
    name = signal.Signals(number).name
    again = name in _received
    _received.append(name)
    if again and number == signal.SIGINT and MPI.COMM_WORLD.size == 1:
        raise KeyboardInterrupt
    if not again and MPI.COMM_WORLD.rank == 0:
        # os.write, not print: a handler may run while the interpreter is inside a print
        os.write(2, f"\nrimmodel: {name} received: stopping after the current time step "
                    f"on every rank (finished work is kept; a run stays resumable)\n".encode())
