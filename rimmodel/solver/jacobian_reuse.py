"""When to rebuild (and refactorise) the Jacobian: chord-Newton across iterations and steps.

A lesion edge moves over years while steps are weeks, so consecutive Jacobians differ
little; with a fresh Jacobian every Newton iteration, LU factorisation took two thirds
of the reference run (README.md, "Benchmark"). One factorised Jacobian is therefore kept
and rebuilt only
* on the first solve, and when asked (``request_fresh``: new parameter values, a
  restored state, every output time, so a run resumed from a checkpoint repeats the
  uninterrupted run's sequence exactly);
* when the time-derivative weight a0/dt has changed by more than ``WEIGHT_CHANGE``;
* after ``max_iterations`` Newton iterations on the old one;
* to retry a solve that failed on a reused Jacobian (the stepper does this).
Converged solutions are unaffected (the residual is exact; only the iteration path
changes). ``max_iterations = 0`` is plain Newton: a fresh Jacobian every iteration.

With an iterative solver (``solver.preset = "iterative_3d"``) the same holds: the Krylov
method then solves with the old Jacobian *and* its old preconditioner (GAMG hierarchy, ILU
factors), which is still chord-Newton, and saves the assembly and setup that cost more
than the few extra Newton iterations (docs/scaling.md: 10.0 s against 12.8 s at 173k cells).
"""

from __future__ import annotations

WEIGHT_CHANGE = 0.25


class JacobianReuse:
    """Wraps the SNES Jacobian callback: between rebuilds the matrix is left untouched, so
    PETSc keeps its LU factors (a preconditioner is set up again only when its operator's
    state changes)."""

    def __init__(self, snes, max_iterations: int):
        self.max_iterations = max_iterations
        self.stale, self.iterations, self.weight = True, 0, None
        self.reused, self.build_pending = False, True
        self.builds = 0  # Jacobians assembled (benchmarks/scaling.py reports costs per build)
        matrix, preconditioner, (assemble, args, kwargs) = snes.getJacobian()

        def jacobian(snes_, x, matrix_, preconditioner_):
            if self.build_pending or self.max_iterations == 0:
                assemble(snes_, x, matrix_, preconditioner_, *(args or ()), **(kwargs or {}))
                self.build_pending = False
                self.builds += 1

        snes.setJacobian(jacobian, matrix, preconditioner)

    def request_fresh(self) -> None:
        self.stale = True

    def before_solve(self, weight: float) -> None:
        """``weight``: the a0/dt multiplying the mass matrix in this step's Jacobian."""
        changed = self.weight is None or abs(weight / self.weight - 1.0) > WEIGHT_CHANGE
        fresh = self.stale or changed or self.iterations >= self.max_iterations or self.max_iterations == 0
        self.reused = not fresh
        if fresh:
            self.build_pending = True
            self.stale, self.iterations, self.weight = False, 0, weight

    def after_solve(self, iterations: int) -> None:
        self.iterations += iterations
