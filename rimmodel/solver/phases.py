"""Where a run's time goes: solver phases from PETSc's event log, output phases from our timers.

PETSc logs every SNES/KSP/PC event once ``PETSc.Log.begin()`` has been called (the
overhead is a few counters per event). A ``PhaseClock`` takes differences between two
moments, so several runs in one process (a study, the demo) are timed apart. Times are the
maximum over ranks: the slowest rank is what the user waits for.

Beginning the log is collective on PETSC_COMM_WORLD (it creates a PETSc object there, which
duplicates the communicator), so it is only begun where every rank of that communicator is
present: a clock on a communicator spanning it begins it itself; a study begins it before
its groups split (``begin_petsc_logging``). A clock on a smaller communicator (one study
group) never begins it: there a group whose run starts after another group has finished
would wait forever. Without the log, only our own phases are timed.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np

from rimmodel.fem import MPI, PETSc

# phase name -> PETSc event. Reaction terms are assembled with the rest of each form (UFL
# quadrature), so they are inside the two assembly phases, not a separate pointwise update.
PETSC_PHASES = {
    "residual_assembly": "SNESFunctionEval",
    "jacobian_assembly": "SNESJacobianEval",
    "factorisation": "PCSetUp",
    "triangular_solves": "KSPSolve",
}
OWN_PHASES = ("observables", "field_output", "checkpoints", "record_output")


def begin_petsc_logging(comm) -> bool:
    """Begin PETSc's event log if ``comm`` spans PETSC_COMM_WORLD (then collective on ``comm``);
    returns whether the log is on. On a smaller communicator it only says whether it is on."""
    if not PETSc.Log.isActive() and _spans_petsc_world(comm):
        PETSc.Log.begin()
    return PETSc.Log.isActive()


def _spans_petsc_world(comm) -> bool:
    return MPI.Comm.Compare(comm, PETSc.COMM_WORLD.tompi4py()) in (MPI.IDENT, MPI.CONGRUENT)


def _petsc_times() -> dict[str, float]:
    return {phase: PETSc.Log.Event(event).getPerfInfo()["time"] for phase, event in PETSC_PHASES.items()}


class PhaseClock:
    def __init__(self, comm):
        self.comm = comm
        self.petsc_logged = begin_petsc_logging(comm)
        self.started_petsc = _petsc_times() if self.petsc_logged else {}
        self.started = time.perf_counter()
        self.own = dict.fromkeys(OWN_PHASES, 0.0)

    @contextmanager
    def phase(self, name: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.own[name] += time.perf_counter() - started

    def totals(self, carried: dict[str, float] | None = None) -> dict[str, float]:
        """Seconds per phase since the clock started (plus ``carried``, from before a resume); solver phases
        only where the PETSc log is on. Collective."""
        now = _petsc_times() if self.petsc_logged else {}
        local = {phase: now[phase] - self.started_petsc[phase] for phase in now} | self.own
        local["total"] = time.perf_counter() - self.started
        names = sorted(local)
        worst = np.empty(len(names))
        self.comm.Allreduce(np.array([local[n] for n in names]), worst, op=MPI.MAX)
        found = dict(zip(names, worst.tolist()))
        found["other"] = max(found["total"] - sum(v for k, v in found.items() if k != "total"), 0.0)
        return {k: found[k] + (carried or {}).get(k, 0.0) for k in found}
