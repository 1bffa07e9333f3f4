"""Implicit variable-step BDF time stepping of the coupled system with PETSc SNES.

Fully implicit (not IMEX): the mediator and follicle factor diffuse and decay
~10^4 times faster than the lesion edge moves, so any explicit part would tie
the step to hours while the physics of interest needs steps of weeks over
decades. Variable-step BDF2 is second order and A-stable; its coefficients are
``Constant``s, so changing the step never recompiles the forms.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import ufl

from rimmodel.config.solver_presets import solver_options
from rimmodel.fem import MPI, PETSc, dolfinx, fem
from rimmodel.physics.equations import Equations, Tissue
from rimmodel.solver.jacobian_reuse import JacobianReuse

_problem_ids = itertools.count()


@dataclass
class StepOutcome:
    accepted: bool
    reason: str              # "ok" or why the step was rejected
    newton_iterations: int
    linear_iterations: int


class BDFStepper:
    """Advances ``state`` from t to t + dt; history is kept for BDF2."""

    def __init__(self, equations: Equations, tissue: Tissue, space, scheme: str,
                 petsc_options: dict, negativity_tolerance: float, forcing=None, jacobian_reuse: int = 0):
        """``forcing(test, tissue)``, if given, returns a form added to the right-hand side
        (manufactured-solution sources in verification; None for the disease model)."""
        self.equations = equations
        self.order = 2 if scheme == "bdf2" else 1
        self.negativity_tolerance = negativity_tolerance
        self.state = fem.Function(space, name="state")          # u^{n+1}, the unknown
        self.previous = fem.Function(space, name="previous")    # u^n
        self.before_previous = fem.Function(space, name="before_previous")  # u^{n-1}
        self.previous_dt: float | None = None
        msh = space.mesh
        self.dt = fem.Constant(msh, 1.0)
        self.coefficients = [fem.Constant(msh, c) for c in (1.0, -1.0, 0.0)]
        a0, a1, a2 = self.coefficients
        du_dt = (a0 * self.state + a1 * self.previous + a2 * self.before_previous) / self.dt
        test = ufl.TestFunction(space)
        residual = equations.mass(du_dt, test, tissue) + equations.spatial_residual(self.state, test, tissue)
        if forcing is not None:
            residual -= forcing(test, tissue)
        self.problem = dolfinx.fem.petsc.NonlinearProblem(
            residual, self.state, petsc_options_prefix=f"rimmodel_{next(_problem_ids)}_",
            petsc_options=solver_options(petsc_options, equations.fields.split_blocks(), len(equations.fields)))
        self.jacobian = JacobianReuse(self.problem.solver, jacobian_reuse)
        self.extrapolate = True  # predictor for Newton (see _initial_guess); False starts from u^n

    def refresh_jacobian(self) -> None:
        """Build a fresh Jacobian at the next solve (new parameter values; every output time, so a
        resumed run repeats the uninterrupted run's solver path)."""
        self.jacobian.request_fresh()

    def set_jacobian_reuse(self, max_iterations: int) -> None:
        """Newton iterations one factorised Jacobian may serve (0: a fresh one every iteration)."""
        self.jacobian.max_iterations = max_iterations
        self.jacobian.request_fresh()

    def initialise(self) -> None:
        """Call once the initial condition is in ``state``."""
        self.previous.x.array[:] = self.state.x.array
        self.before_previous.x.array[:] = self.state.x.array
        self.previous_dt = None
        self.jacobian.request_fresh()

    def history(self) -> tuple[dict[str, np.ndarray], float | None]:
        """This rank's BDF history after an accepted step (what a checkpoint must keep)."""
        arrays = {"previous": self.previous.x.array.copy(), "before_previous": self.before_previous.x.array.copy()}
        return arrays, self.previous_dt

    def restore(self, arrays: dict, previous_dt: float | None) -> None:
        """Collective: a history that does not fit this rank's state (a checkpoint from another
        mesh or partition, or a crafted one) is refused on every rank."""
        expected = self.previous.x.array.shape
        fits = all(np.shape(arrays[name]) == expected for name in ("previous", "before_previous"))
        if not self.state.function_space.mesh.comm.allreduce(fits, op=MPI.LAND):
            raise ValueError(f"the checkpoint's BDF history does not fit this run's mesh "
                             f"({expected[0]} values per field on rank {self.state.function_space.mesh.comm.rank}): "
                             f"it belongs to another run")
        self.previous.x.array[:] = arrays["previous"]
        self.before_previous.x.array[:] = arrays["before_previous"]
        self.state.x.array[:] = arrays["previous"]
        self.previous_dt = previous_dt
        self.jacobian.request_fresh()

    def try_step(self, t: float, dt: float) -> StepOutcome:
        """Solve for t + dt. On rejection ``state`` is restored to u^n."""
        self._set_coefficients(dt)
        self.equations.set_time(t + dt)
        outcome = self._solve(dt, predict=self.extrapolate)
        if not outcome.accepted and (self.jacobian.reused or self.extrapolate):
            # a stale Jacobian or a poor predicted guess (large steps across a steep front) may be
            # why: retry from u^n with a fresh Jacobian before the time loop shrinks the step
            self.jacobian.request_fresh()
            outcome = self._solve(dt, predict=False)
        return outcome

    def _solve(self, dt: float, predict: bool) -> StepOutcome:
        self.jacobian.before_solve(self.coefficients[0].value / dt)
        self._initial_guess(dt, predict)
        snes = self.problem.solver
        try:
            self.problem.solve()
        except PETSc.Error as error:  # e.g. a zero pivot in the factorisation
            return self._reject(f"PETSc error {error.ierr}", snes)
        finally:
            self.jacobian.after_solve(snes.getIterationNumber())
        if snes.getConvergedReason() <= 0:
            return self._reject(f"Newton did not converge (SNES reason {snes.getConvergedReason()})", snes)
        problem = self._check_state()
        if problem:
            return self._reject(problem, snes)
        return StepOutcome(True, "ok", snes.getIterationNumber(), snes.getLinearSolveIterations())

    def _initial_guess(self, dt: float, predict: bool) -> None:
        """Newton's initial guess: u^n, or with ``predict`` u^n extrapolated linearly through
        u^{n-1} and kept non-negative (every field is a density)."""
        self.state.x.array[:] = self.previous.x.array
        if predict and self.previous_dt is not None:
            slope = (self.previous.x.array - self.before_previous.x.array) * (dt / self.previous_dt)
            self.state.x.array[:] = np.maximum(self.state.x.array + slope, 0.0)

    def accept(self, dt: float) -> None:
        self.before_previous.x.array[:] = self.previous.x.array
        self.previous.x.array[:] = self.state.x.array
        self.previous_dt = dt

    def _set_coefficients(self, dt: float) -> None:
        self.dt.value = dt
        if self.order == 1 or self.previous_dt is None:
            values = (1.0, -1.0, 0.0)
        else:
            ratio = dt / self.previous_dt
            values = ((1 + 2 * ratio) / (1 + ratio), -(1 + ratio), ratio**2 / (1 + ratio))
        for constant, value in zip(self.coefficients, values):
            constant.value = value

    def _check_state(self) -> str:
        dofmap = self.state.function_space.dofmap
        block = dofmap.index_map_bs
        values = self.state.x.array[:dofmap.index_map.size_local * block]
        comm = self.state.function_space.mesh.comm
        finite = comm.allreduce(bool(np.all(np.isfinite(values))), op=MPI.LAND)
        if not finite:
            return "non-finite values"
        per_field = values.reshape(-1, block).min(axis=0) if values.size else np.full(block, np.inf)
        comm.Allreduce(MPI.IN_PLACE, per_field, op=MPI.MIN)
        field = int(np.argmin(per_field))
        if per_field[field] < -self.negativity_tolerance:
            names = [getattr(f, "name", f) for f in getattr(self.equations, "fields", ())]  # a FieldSet: by name
            name = names[field] if len(names) == block else f"field {field}"
            return f"negative density {per_field[field]:.3g} ({name})"
        return ""

    def _reject(self, reason: str, snes) -> StepOutcome:
        self.state.x.array[:] = self.previous.x.array
        return StepOutcome(False, reason, snes.getIterationNumber(), snes.getLinearSolveIterations())
