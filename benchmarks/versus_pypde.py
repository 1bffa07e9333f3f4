"""rimmodel against py-pde on two 2D front problems, side by side (issue 8).

    .venv/bin/python benchmarks/versus_pypde.py          # references, accuracy search, timings (~10 min)
    .venv/bin/python benchmarks/versus_pypde.py --quick  # stored settings and references, 1 repetition (~1.5 min)

py-pde is a benchmark-only dependency: ``pip install -e ".[bench]"``.

Both problems live on the rectangle [0, 4] x [0, 1] mm with no-flux boundaries and start from a
steep microglial front at x = x0 + 0.1 cos(pi y) (the ripple makes the problem genuinely 2D):

* fisher-kpp: m_t = D_m lap(m) + r_0 m (1 - m), D_m = 0.05 mm^2/yr, r_0 = 2.2 /yr, 4 years.
* chemotaxis: the model's microglia-mediator subsystem with the model's default rates, myelin
  intact (demyelination and follicles off), 10 years:
      m_t = D_m lap(m) - div(chi m (1 - m) grad c) + r_m c/(K_s + c) (sigma_0 + m)(1 - m) - delta_m m
      c_t = D_c lap(c) - k_c c + p_c m
  The mediator is stiff (D_c = 1200 mm^2/yr, k_c = 5000 /yr): explicit steps are bound by
  h^2 / (4 D_c), about 10^7 steps on the meshes below.

rimmodel solves only those fields (``rimmodel.physics.subsystems``: FisherKPP, MicrogliaMediator; the
same UFL terms as the full model) with P1 triangles, lumped mass, fixed-step BDF2 and Newton with a
reused LU-factorised Jacobian (``solver.jacobian_reuse``), through ``verification.build_stepper``.
py-pde solves the same equations with finite differences on a cell-centred grid, with its own solvers:
ScipySolver (BDF with a sparse finite-difference Jacobian), adaptive RungeKuttaSolver and EulerSolver,
each with py-pde's two backends: "numba" compiles the right-hand side and the stepping loop,
"numpy" steps in Python (field operators still numba-compiled, once).

Front position X = int m dA / (W m*), with m* the activated plateau (the y-averaged integral of m along
the front direction). Front error = |X - X_ref| / (X_ref - X_0), relative to the distance the front
travels. X_ref is py-pde at 80 cells/mm with ScipySolver BDF at rtol 1e-8; a fine rimmodel run checks
that the two codes agree. For each code (and py-pde solver family) the search walks resolutions from
coarse to fine and, at each, step settings from loose to tight; it keeps the coarsest resolution with a
setting whose error, and that of the next tighter setting, are both within 1%. py-pde's two backends run
the same algorithm to round-off, so the search runs once per family (numpy backend: no compilation per
trial) and both backends are timed at the chosen setting. The full mode writes its choices and
references to versus_pypde.json, which --quick reads.

Timing: every run is a fresh process with fresh dolfinx JIT (XDG_CACHE_HOME) and numba
(NUMBA_CACHE_DIR) cache directories, one thread. "first" is from the start of the process to the end
of the first solve (imports, mesh/grid, form or numba compilation, solve); "second" is a second solve
of the same problem in that process, compiled code reused. Runs alternate between the codes and the
ratios rimmodel / py-pde are medians over repetitions of adjacent runs: the machine is shared and
noisy, so read ratios, not absolute times.
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()  # "first" solve times count from here: before any FEM or numba import

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

LENGTH, WIDTH = 4.0, 1.0     # mm: the front moves along x
RIPPLE, EDGE = 0.1, 0.05     # mm: amplitude of the front's ripple, width of its edge
TOLERANCE = 0.01             # front error accepted
RESOLUTIONS = (10, 14, 20, 28, 40)   # cells per mm, both codes
REFERENCE_RESOLUTION = 80
REFERENCE_RTOL = 1e-8
STEP_COUNTS = (10, 20, 40, 80, 160)  # rimmodel: fixed BDF2 steps over the run
PYPDE_SETTINGS = {"scipy-bdf": (1e-3, 1e-4, 1e-5, 1e-6),      # rtol (atol = rtol / 100)
                  "runge-kutta": (1e-2, 1e-3, 1e-4, 1e-5),    # absolute error per step
                  "euler": (1e-2, 1e-3, 1e-4, 1e-5)}
PYPDE_BACKENDS = ("numba", "numpy")
SEARCH_BACKEND = "numpy"     # same steps as numba, without compiling a stepper for every trial
NO_EXPLICIT = ("myelin.microglial_damage_rate=0.0", "myelin.follicle_damage_rate=0.0",
               "follicles.pial_flux=0.0", "follicles.patches=[]", "axons.microglial_damage_rate=0.0")
# rimmodel's solver, tuned for these serial, few-thousand-unknown systems: PETSc's own LU factorises
# and solves them ~25% faster than MUMPS. The Newton tolerances stay the model's defaults: the SNES
# residual norm is dominated by the stiff mediator rows, and a loose relative tolerance
# (snes_rtol = 1e-5) let a 7% front error through on the chemotaxis problem.
RIMMODEL_SOLVER = ('solver.petsc_options.pc_factor_mat_solver_type="petsc"',)
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
SETTINGS_FILE = Path(__file__).with_suffix(".json")


# ---------------------------------------------------------------------------------------------- problems

@dataclass(frozen=True)
class Rates:
    """The microglia-mediator rates both codes use (mm, yr)."""

    microglia_diffusivity: float
    chemotactic_sensitivity: float
    basal_growth_rate: float
    activation_rate: float
    half_saturation: float
    resting_pool: float
    deactivation_rate: float
    mediator_diffusivity: float
    mediator_decay: float
    mediator_production: float   # p_c rho y + p_m with rho = y = 1 (white matter, myelin intact)

    @classmethod
    def from_config(cls, config) -> Rates:
        glia, mediator = config.microglia, config.mediator
        return cls(glia.diffusivity, glia.chemotactic_sensitivity, glia.basal_growth_rate, glia.activation_rate,
                   glia.half_saturation, glia.resting_pool, glia.deactivation_rate, mediator.diffusivity,
                   mediator.decay_rate, mediator.debris_production + mediator.microglial_production)

    @property
    def has_mediator(self) -> bool:
        return self.mediator_production > 0 or self.chemotactic_sensitivity > 0

    def growth(self, m, c):
        activation = self.basal_growth_rate + self.activation_rate * c / (self.half_saturation + c)
        return activation * (self.resting_pool + m) * (1 - m) - self.deactivation_rate * m

    def quasi_steady_mediator(self, m):
        return self.mediator_production * m / self.mediator_decay

    def plateau(self) -> float:
        """m*: the largest zero of the growth along c = p m / k_c in (0, 1] (the activated state).

        Bisection in numpy: scipy.optimize would add ~0.9 s of imports to every timed process."""
        along = lambda m: self.growth(m, self.quasi_steady_mediator(m))  # noqa: E731
        grid = np.linspace(1e-6, 1.0, 4001)
        values = along(grid)
        falling = np.flatnonzero((values[:-1] > 0) & (values[1:] < 0))
        if falling.size == 0:
            return 1.0
        low, high = grid[falling[-1]], grid[falling[-1] + 1]
        for _ in range(60):
            middle = 0.5 * (low + high)
            low, high = (middle, high) if along(middle) > 0 else (low, middle)
        return 0.5 * (low + high)


@dataclass(frozen=True)
class FrontProblem:
    name: str
    overrides: tuple[str, ...]   # rimmodel config overrides; py-pde reads its rates from the same config
    end: float                   # yr
    front_start: float           # mm

    def config(self):
        from rimmodel.config import load_config

        return load_config(None, self.overrides + RIMMODEL_SOLVER)

    def rates(self) -> Rates:
        return Rates.from_config(self.config())

    def initial_microglia(self, x, y, plateau: float):
        front = self.front_start + RIPPLE * np.cos(np.pi * y / WIDTH)
        return plateau * 0.5 * (1 - np.tanh((x - front) / EDGE))


PROBLEMS = {
    "fisher-kpp": FrontProblem("fisher-kpp", NO_EXPLICIT + (
        "microglia.diffusivity=0.05", "microglia.basal_growth_rate=2.2", "microglia.activation_rate=0.0",
        "microglia.resting_pool=0.0", "microglia.deactivation_rate=0.0", "microglia.chemotactic_sensitivity=0.0",
        "mediator.debris_production=0.0", "mediator.microglial_production=0.0"), end=4.0, front_start=0.5),
    "chemotaxis": FrontProblem("chemotaxis", NO_EXPLICIT, end=10.0, front_start=1.0),
}


@dataclass
class Trial:
    """One solve: what was run, where the front ended, what it cost."""

    code: str
    problem: str
    family: str            # solver family ("bdf2" for rimmodel)
    backend: str           # py-pde: "numba" or "numpy"; rimmodel: "dolfinx"
    cells_per_mm: int
    setting: float         # rimmodel: dt (yr); py-pde: rtol or per-step tolerance
    unknowns: int
    steps: int
    start: float           # front position at t = 0 (mm)
    position: float        # front position at the end (mm)
    first_s: float = float("nan")    # process start to end of the first solve
    second_s: float = float("nan")   # a second solve in the same process


# ---------------------------------------------------------------------------------------------- rimmodel

def rectangle(comm, cells_per_mm: int):
    """The benchmark rectangle as a rimmodel Domain: all white matter, no pia (no-flux everywhere)."""
    from rimmodel.fem import mesh as dmesh
    from rimmodel.geometry.domain import OUTER, WHITE_MATTER, Domain

    msh = dmesh.create_rectangle(comm, [[0.0, 0.0], [LENGTH, WIDTH]],
                                 [round(LENGTH * cells_per_mm), round(WIDTH * cells_per_mm)])
    tdim = msh.topology.dim
    count = msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts
    cells = dmesh.meshtags(msh, tdim, np.arange(count, dtype=np.int32), np.full(count, WHITE_MATTER, np.int32))
    msh.topology.create_connectivity(tdim - 1, tdim)
    boundary = dmesh.exterior_facet_indices(msh.topology).astype(np.int32)
    facets = dmesh.meshtags(msh, tdim - 1, boundary, np.full(boundary.size, OUTER, np.int32))
    return Domain(msh, cells, facets, "rectangle", lambda depth, x: (x, WIDTH - depth))


class RimmodelFront:
    """rimmodel's stepper on the rectangle, on the problem's fields only; ``solve`` can be called again
    (compiled forms reused)."""

    def __init__(self, problem: FrontProblem, cells_per_mm: int, dt: float):
        from rimmodel.fem import MPI
        from rimmodel.pharmacology import occupancy_course
        from rimmodel.physics.subsystems import FisherKPP, MicrogliaMediator
        from rimmodel.verification.problem import build_stepper

        self.problem, self.cells_per_mm, self.dt = problem, cells_per_mm, dt
        self.rates = problem.rates()
        self.plateau = self.rates.plateau()
        self.comm = MPI.COMM_WORLD
        domain, config = rectangle(self.comm, cells_per_mm), problem.config()
        equations = (MicrogliaMediator(domain.mesh, config, occupancy_course(config)) if self.rates.has_mediator
                     else FisherKPP(domain.mesh, config))
        self.stepper, _ = build_stepper(domain, config, equations=equations)
        self.cell_dofs, self.cell_thirds = self._p1_quadrature()

    def _p1_quadrature(self) -> tuple[np.ndarray, np.ndarray]:
        """Microglia dofs of each owned triangle and a third of its area: exact P1 integration without
        compiling a form (py-pde's integral costs nothing either)."""
        space = self.stepper.state.function_space
        msh = space.mesh
        owned = msh.topology.index_map(msh.topology.dim).size_local
        corners = msh.geometry.x[msh.geometry.dofmap[:owned], :2]
        edges = corners[:, 1:] - corners[:, :1]
        areas = 0.5 * np.abs(edges[:, 0, 0] * edges[:, 1, 1] - edges[:, 0, 1] * edges[:, 1, 0])
        return space.dofmap.list[:owned] * space.dofmap.index_map_bs, areas / 3

    @property
    def unknowns(self) -> int:
        dofmap = self.stepper.state.function_space.dofmap
        return dofmap.index_map.size_global * dofmap.index_map_bs

    def front_position(self) -> float:
        from rimmodel.fem import MPI

        microglia = self.stepper.state.x.array[self.cell_dofs].sum(axis=1)
        return self.comm.allreduce(float(self.cell_thirds @ microglia), op=MPI.SUM) / (WIDTH * self.plateau)

    def solve(self) -> Trial:
        from rimmodel.verification.problem import march

        self.stepper.state.interpolate(self._initial_state)
        self.stepper.initialise()
        start = self.front_position()
        steps = round(self.problem.end / self.dt)
        march(self.stepper, self.dt, steps)
        return Trial("rimmodel", self.problem.name, "bdf2", "dolfinx", self.cells_per_mm, self.dt, self.unknowns,
                     steps, start, self.front_position())

    def _initial_state(self, x: np.ndarray) -> np.ndarray:
        m = self.problem.initial_microglia(x[0], x[1], self.plateau)
        if not self.rates.has_mediator:
            return m[None]
        return np.stack([m, self.rates.quasi_steady_mediator(m)])


# ---------------------------------------------------------------------------------------------- py-pde

NO_FLUX = {"derivative": 0}


def _pde_classes():
    """py-pde equation classes (defined lazily: importing py-pde is the py-pde process's business).

    Each has both of py-pde's implementations: ``evolution_rate`` on fields, which the numpy backend
    steps with, and ``make_evolution_rate``, which the numba backend compiles together with the
    stepper. The taxis term is expanded for the finite differences:
    div(phi grad c) = phi' grad m . grad c + phi lap c, phi = m (1 - m).
    """
    from pde import FieldCollection
    from pde.pdes.base import PDEBase

    class Front(PDEBase):
        explicit_time_dependence = False

        def __init__(self, rates: Rates):
            super().__init__()
            self.rates = rates

    class FisherKPP(Front):
        """m_t = D_m lap(m) + g(m, 0)."""

        def evolution_rate(self, state, t=0):
            return self.rates.microglia_diffusivity * state.laplace(NO_FLUX) + self.rates.growth(state, 0.0)

        def make_evolution_rate(self, state, backend):
            laplace = state.grid.make_operator("laplace", bc=NO_FLUX, backend=backend)
            r = self.rates
            diffusivity, basal, pool, deactivation = (r.microglia_diffusivity, r.basal_growth_rate,
                                                      r.resting_pool, r.deactivation_rate)

            def rate(m, t=0):
                return diffusivity * laplace(m) + basal * (pool + m) * (1 - m) - deactivation * m
            return rate

    class MicrogliaMediator(Front):
        """The model's Keller-Segel pair with intact myelin."""

        def evolution_rate(self, state, t=0):
            r, (m, c) = self.rates, state
            lap_c = c.laplace(NO_FLUX)
            taxis = r.chemotactic_sensitivity * ((1 - 2 * m) * m.gradient(NO_FLUX).dot(c.gradient(NO_FLUX))
                                                 + m * (1 - m) * lap_c)
            microglia = r.microglia_diffusivity * m.laplace(NO_FLUX) - taxis + r.growth(m, c)
            mediator = r.mediator_diffusivity * lap_c - r.mediator_decay * c + r.mediator_production * m
            return FieldCollection([microglia, mediator])

        def make_evolution_rate(self, state, backend):
            laplace = state.grid.make_operator("laplace", bc=NO_FLUX, backend=backend)
            gradient = state.grid.make_operator("gradient", bc=NO_FLUX, backend=backend)
            r = self.rates
            d_m, chi, r_0, r_m, k_s, pool, delta = (r.microglia_diffusivity, r.chemotactic_sensitivity,
                                                    r.basal_growth_rate, r.activation_rate, r.half_saturation,
                                                    r.resting_pool, r.deactivation_rate)
            d_c, k_c, p_c = r.mediator_diffusivity, r.mediator_decay, r.mediator_production

            def rate(u, t=0):
                m, c = u[0], u[1]
                grad_m, grad_c, lap_c = gradient(m), gradient(c), laplace(c)
                taxis = chi * ((1 - 2 * m) * (grad_m[0] * grad_c[0] + grad_m[1] * grad_c[1]) + m * (1 - m) * lap_c)
                growth = (r_0 + r_m * c / (k_s + c)) * (pool + m) * (1 - m) - delta * m
                out = np.empty_like(u)
                out[0] = d_m * laplace(m) - taxis + growth
                out[1] = d_c * lap_c - k_c * c + p_c * m
                return out
            return rate

    return FisherKPP, MicrogliaMediator


def _counted_bdf():
    """scipy's BDF, counting accepted steps (solve_ivp reports only right-hand-side evaluations)."""
    from scipy.integrate import BDF

    class CountedBDF(BDF):
        accepted = 0

        def _step_impl(self):
            success, message = super()._step_impl()
            CountedBDF.accepted += int(success)
            return success, message
    return CountedBDF


def stencil_sparsity(shape: tuple[int, int], coupled: bool):
    """Jacobian pattern of the 5-point stencil (per field); m depends on c's stencil, c on m pointwise."""
    import scipy.sparse as sp

    line = lambda n: sp.diags([1.0, 1.0, 1.0], [-1, 0, 1], shape=(n, n))  # noqa: E731
    stencil = sp.kron(line(shape[0]), sp.identity(shape[1])) + sp.kron(sp.identity(shape[0]), line(shape[1]))
    if not coupled:
        return stencil.tocsc()
    return sp.bmat([[stencil, stencil], [sp.identity(stencil.shape[0]), stencil]]).tocsc()


class PypdeFront:
    """py-pde on the rectangle; ``solve`` can be called again (the compiled stepper is reused)."""

    def __init__(self, problem: FrontProblem, cells_per_mm: int, family: str, setting: float, backend: str):
        import pde

        self.problem, self.cells_per_mm, self.family, self.setting = problem, cells_per_mm, family, setting
        self.backend = backend
        self.rates = problem.rates()
        self.plateau = self.rates.plateau()
        shape = (round(LENGTH * cells_per_mm), round(WIDTH * cells_per_mm))
        self.grid = pde.CartesianGrid([[0.0, LENGTH], [0.0, WIDTH]], list(shape))
        fisher, microglia_mediator = _pde_classes()
        self.equation = (microglia_mediator if self.rates.has_mediator else fisher)(self.rates)
        self.solver = self._solver(shape)
        self._stepper = None

    def _solver(self, shape):
        import pde

        if self.family == "scipy-bdf":
            self.bdf = _counted_bdf()
            return pde.ScipySolver(self.equation, backend=self.backend, method=self.bdf, rtol=self.setting,
                                   atol=self.setting / 100,
                                   jac_sparsity=stencil_sparsity(shape, self.rates.has_mediator))
        solver = {"runge-kutta": pde.RungeKuttaSolver, "euler": pde.EulerSolver}[self.family]
        return solver(self.equation, backend=self.backend, adaptive=True, tolerance=self.setting)

    def initial_state(self):
        import pde

        x, y = self.grid.cell_coords[..., 0], self.grid.cell_coords[..., 1]
        m = pde.ScalarField(self.grid, self.problem.initial_microglia(x, y, self.plateau))
        if not self.rates.has_mediator:
            return m
        return pde.FieldCollection([m, pde.ScalarField(self.grid, self.rates.quasi_steady_mediator(m.data))])

    def front_position(self, state) -> float:
        m = state[0] if self.rates.has_mediator else state
        return float(m.integral) / (WIDTH * self.plateau)

    def solve(self) -> Trial:
        state = self.initial_state()
        if self._stepper is None:
            self._stepper = self.solver.make_stepper(state, dt=None)
        steps_before = self._reset_counters()
        self._stepper(state, 0.0, self.problem.end)
        steps = self.bdf.accepted if self.family == "scipy-bdf" else self.solver.info["steps"] - steps_before
        return Trial("py-pde", self.problem.name, self.family, self.backend, self.cells_per_mm, self.setting,
                     state.data.size, steps, self.front_position(self.initial_state()), self.front_position(state))

    def _reset_counters(self) -> int:
        if self.family == "scipy-bdf":
            self.bdf.accepted = 0
            return 0
        self.solver.info["dt"] = self.solver.dt_default  # restart the step-size controller as in the first solve
        return self.solver.info["steps"]


def explicit_cost(problem: FrontProblem, cells_per_mm: int, sample_steps: int = 2000) -> dict:
    """py-pde's explicit Euler (numba) at its stability limit: step count over the run and a timed sample."""
    import pde

    front = PypdeFront(problem, cells_per_mm, "euler", 1.0, "numba")
    r = front.rates
    spectral_radius = 8 * max(r.microglia_diffusivity, r.mediator_diffusivity) * cells_per_mm**2 + r.mediator_decay
    dt = 2.0 / spectral_radius
    stepper = pde.EulerSolver(front.equation, backend="numba", adaptive=False).make_stepper(front.initial_state(),
                                                                                          dt=dt)
    state = front.initial_state()
    stepper(state, 0.0, 10 * dt)  # compile
    started = time.perf_counter()
    stepper(state, 0.0, sample_steps * dt)
    per_step = (time.perf_counter() - started) / sample_steps
    steps = problem.end / dt
    return {"problem": problem.name, "cells_per_mm": cells_per_mm, "dt": dt, "steps": steps,
            "estimated_s": steps * per_step}


# ---------------------------------------------------------------------------------------------- in a child process

def make_front(spec: dict):
    problem = PROBLEMS[spec["problem"]]
    if spec["code"] == "rimmodel":
        return RimmodelFront(problem, spec["cells_per_mm"], spec["setting"])
    return PypdeFront(problem, spec["cells_per_mm"], spec["family"], spec["setting"], spec["backend"])


def timed_case(spec: dict) -> Trial:
    """First solve (counted from process start) and a second solve in the same process."""
    front = make_front(spec)
    trial = front.solve()
    trial.first_s = time.perf_counter() - _STARTED
    started = time.perf_counter()
    again = front.solve()
    trial.second_s = time.perf_counter() - started
    if not np.isclose(again.position, trial.position, rtol=1e-9, atol=1e-12):
        raise RuntimeError(f"second solve differs: {again.position} vs {trial.position}")
    return trial


def front_error(trial: Trial | dict, reference: float) -> float:
    position, start = (trial.position, trial.start) if isinstance(trial, Trial) else (trial["position"],
                                                                                       trial["start"])
    return abs(position - reference) / (reference - start)


def search(spec: dict, reference: float, emit) -> None:
    """Coarse to fine: the first resolution with two consecutive settings within tolerance wins."""
    problem = PROBLEMS[spec["problem"]]
    settings = ([problem.end / n for n in STEP_COUNTS] if spec["code"] == "rimmodel"
                else PYPDE_SETTINGS[spec["family"]])
    for cells_per_mm in RESOLUTIONS:
        errors = []
        for setting in settings:
            record = attempt({**spec, "cells_per_mm": cells_per_mm, "setting": setting}, reference)
            errors.append(record["error"])
            emit(record)
            if len(errors) >= 2 and max(errors[-2:]) <= TOLERANCE:
                return emit({"kind": "choice", **spec, "cells_per_mm": cells_per_mm,
                             "setting": settings[len(errors) - 2]})
            if len(errors) >= 2 and errors[-1] > TOLERANCE and abs(errors[-1] - errors[-2]) < TOLERANCE / 4:
                break   # the spatial error alone exceeds the tolerance: refine the mesh
        if errors[-1] <= TOLERANCE and len(errors) == len(settings):
            return emit({"kind": "choice", **spec, "cells_per_mm": cells_per_mm, "setting": settings[-1]})
    emit({"kind": "choice", **spec, "cells_per_mm": None, "setting": None})


def attempt(spec: dict, reference: float) -> dict:
    """One search trial; a run that fails (rimmodel rejects a step, py-pde diverges) has infinite error."""
    started = time.perf_counter()
    try:
        trial = make_front(spec).solve()
    except RuntimeError as failure:
        return {"kind": "trial", **spec, "steps": 0, "position": float("nan"), "error": float("inf"),
                "second_s": time.perf_counter() - started, "failed": str(failure)[-120:]}
    trial.second_s = time.perf_counter() - started   # includes this trial's compilation, in-process
    return {"kind": "trial", **asdict(trial), "error": front_error(trial, reference)}


def reference_runs(problem: FrontProblem, emit) -> None:
    for cells_per_mm in (REFERENCE_RESOLUTION // 2, REFERENCE_RESOLUTION):
        front = PypdeFront(problem, cells_per_mm, "scipy-bdf", REFERENCE_RTOL, SEARCH_BACKEND)
        emit({"kind": "reference", **asdict(front.solve())})


def agreement_run(problem: FrontProblem, emit) -> None:
    """rimmodel at the finest search mesh with a small step: does it agree with the py-pde reference?"""
    emit({"kind": "agreement", **asdict(RimmodelFront(problem, RESOLUTIONS[-1], problem.end / 200).solve())})


def child(task: dict) -> None:
    emit = lambda record: print(json.dumps(record), flush=True)  # noqa: E731
    problem = PROBLEMS[task["problem"]]
    if task["task"] == "time":
        emit({"kind": "timing", **asdict(timed_case(task))})
    elif task["task"] == "search":
        search({k: task[k] for k in ("code", "problem", "family", "backend")}, task["reference"], emit)
    elif task["task"] == "reference":
        reference_runs(problem, emit)
    elif task["task"] == "agreement":
        agreement_run(problem, emit)
    elif task["task"] == "explicit":
        emit({"kind": "explicit", **explicit_cost(problem, task["cells_per_mm"])})


# ---------------------------------------------------------------------------------------------- parent

def launch(task: dict, cold: bool = False) -> list[dict]:
    """Run ``task`` in a fresh process; with ``cold``, empty JIT caches for dolfinx and numba."""
    with tempfile.TemporaryDirectory(prefix="versus-pypde-") as scratch:
        env = os.environ | SINGLE_THREAD
        if cold:
            env |= {"XDG_CACHE_HOME": scratch, "NUMBA_CACHE_DIR": str(Path(scratch) / "numba")}
        done = subprocess.run([sys.executable, __file__, "--child", json.dumps(task)], capture_output=True,
                              text=True, env=env, cwd=scratch, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{task} failed:\n{done.stderr[-3000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def references(problem: str, log) -> float:
    coarse, fine = launch({"task": "reference", "problem": problem})
    log(f"{problem}: py-pde reference (BDF rtol {REFERENCE_RTOL:g}) at {coarse['cells_per_mm']} cells/mm "
        f"X = {coarse['position']:.5f} mm, at {fine['cells_per_mm']} X = {fine['position']:.5f} mm "
        f"(difference {front_error(coarse, fine['position']):.3%} of the travel)")
    (check,) = launch({"task": "agreement", "problem": problem})
    log(f"{problem}: rimmodel at {check['cells_per_mm']} cells/mm, dt = {check['setting']:.3g} yr: "
        f"X = {check['position']:.5f} mm, {front_error(check, fine['position']):.3%} from the reference")
    return fine["position"]


def searches(problem: str, reference: float, log) -> list[dict]:
    """Accuracy-matched settings per code and solver family; py-pde's are timed with both backends."""
    families = [("rimmodel", "bdf2", "dolfinx")] + [
        ("py-pde", f, SEARCH_BACKEND) for f in PYPDE_SETTINGS
        if f == "scipy-bdf" or not PROBLEMS[problem].rates().has_mediator]
    choices = []
    for code, family, backend in families:
        records = launch({"task": "search", "code": code, "problem": problem, "family": family,
                          "backend": backend, "reference": reference})
        for r in records[:-1]:
            outcome = (f"failed: {r['failed']}" if "failed" in r else
                       f"X {r['position']:.5f}  error {r['error']:7.3%}")
            log(f"  search {problem:10} {code:8} {family:11} {r['cells_per_mm']:3d} cells/mm  "
                f"setting {r['setting']:<9.3g} steps {r['steps']:6d}  {outcome}  "
                f"({r['second_s']:.1f} s incl. in-process compilation)")
        choice = records[-1]
        if choice["cells_per_mm"] is None:
            log(f"  search {problem}: {code} {family} reached no {TOLERANCE:.0%} setting")
        elif code == "rimmodel":
            choices.append(choice)
        else:
            choices += [{**choice, "backend": b} for b in PYPDE_BACKENDS]
    return choices


def explicit_estimate(problem: str, choices: list[dict], log) -> None:
    """For the stiff problem, what py-pde's explicit stepping would cost at the chosen py-pde mesh."""
    pypde = [c for c in choices if c["code"] == "py-pde"]
    cells = pypde[0]["cells_per_mm"] if pypde else RESOLUTIONS[0]
    (cost,) = launch({"task": "explicit", "problem": problem, "cells_per_mm": cells})
    log(f"{problem}: py-pde explicit Euler (numba) at {cells} cells/mm is stability-bound to dt = "
        f"{cost['dt']:.2e} yr: {cost['steps']:.2e} steps, estimated {cost['estimated_s']:.0f} s of stepping "
        "(from a timed sample); not run")


def time_alternating(choices: list[dict], repetitions: int) -> dict[tuple, list[dict]]:
    """Every repetition runs every choice once, in turn, each in a fresh cold process."""
    fields = ("code", "problem", "family", "backend", "cells_per_mm", "setting")
    specs = [{"task": "time", **{k: choice[k] for k in fields}} for choice in choices]
    # Untimed, one per code: the first process of an invocation also pays for reading the shared
    # libraries from disk, which every later process finds in the OS file cache.
    for warm_up in {spec["code"]: spec for spec in specs if spec["backend"] != "numba"}.values():
        launch(warm_up, cold=True)
    timings = {_key(c): [] for c in choices}
    for _ in range(repetitions):
        for spec in specs:
            (record,) = launch(spec, cold=True)
            timings[_key(spec)].append(record)
    return timings


def _key(record: dict) -> tuple:
    return record["problem"], record["code"], record["family"], record["backend"]


def _median_ratio(numerator: list[dict], denominator: list[dict], key: str) -> float:
    """Median over repetitions of the ratio of adjacent runs (same repetition)."""
    return statistics.median(a[key] / b[key] for a, b in zip(numerator, denominator))


def table_rows(timings: dict[tuple, list[dict]], references_by_problem: dict[str, float]) -> list[str]:
    header = ("| problem | code (solver, backend) | cells/mm | step setting | unknowns | steps | "
              "first solve incl. compilation (s) | second solve (s) | front error | "
              "rimmodel / this, incl. compilation | rimmodel / this, excl. compilation |")
    rows = [header, "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (problem, code, family, backend), runs in timings.items():
        rimmodel = timings.get((problem, "rimmodel", "bdf2", "dolfinx"))
        first, second = (statistics.median(r[k] for r in runs) for k in ("first_s", "second_s"))
        ratios = ("", "") if code == "rimmodel" or rimmodel is None else (
            f"{_median_ratio(rimmodel, runs, 'first_s'):.2f}", f"{_median_ratio(rimmodel, runs, 'second_s'):.2f}")
        rows.append(f"| {problem} | {code} ({family}, {backend}) | {runs[0]['cells_per_mm']} | "
                    f"{_setting_label(family, runs[0])} | {runs[0]['unknowns']} | {runs[0]['steps']} | "
                    f"{first:.2f} | {second:.3f} | {front_error(runs[0], references_by_problem[problem]):.2%} | "
                    f"{ratios[0]} | {ratios[1]} |")
    return rows


def summary_lines(timings: dict[tuple, list[dict]]) -> list[str]:
    """Against py-pde's fastest configuration for each measure (median time), per problem."""
    lines = []
    for problem in dict.fromkeys(key[0] for key in timings):
        rimmodel = timings.get((problem, "rimmodel", "bdf2", "dolfinx"))
        pypde = {key: runs for key, runs in timings.items() if key[0] == problem and key[1] == "py-pde"}
        if rimmodel is None or not pypde:
            continue
        for measure, label in (("first_s", "incl. compilation"), ("second_s", "excl. compilation")):
            key = min(pypde, key=lambda k: statistics.median(r[measure] for r in pypde[k]))
            lines.append(f"- {problem}, {label}: rimmodel / fastest py-pde ({key[2]}, {key[3]}) = "
                         f"{_median_ratio(rimmodel, pypde[key], measure):.2f}")
    return lines


def _setting_label(family: str, run: dict) -> str:
    if family == "bdf2":
        return f"dt = {run['setting']:.3g} yr"
    return f"rtol = {run['setting']:g}" if family == "scipy-bdf" else f"adaptive, tol = {run['setting']:g}"


def provenance() -> str:
    from importlib.metadata import PackageNotFoundError, version

    import rimmodel

    found = []
    for name in ("dolfinx-solver-real", "fenics-dolfinx", "py-pde", "numba", "scipy"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return f"rimmodel from {Path(rimmodel.__file__).parent}; {', '.join(found)}"


def save_settings(references_by_problem: dict[str, float], choices: list[dict]) -> None:
    """What --quick needs: the chosen settings and the reference front positions of this full run."""
    fields = ("code", "problem", "family", "backend", "cells_per_mm", "setting")
    previous = load_settings() if SETTINGS_FILE.exists() else {"references": {}, "choices": []}
    kept = [c for c in previous["choices"] if c["problem"] not in references_by_problem]
    SETTINGS_FILE.write_text(json.dumps({
        "measured": datetime.date.today().isoformat(),
        "references": previous["references"] | references_by_problem,
        "choices": kept + [{k: c[k] for k in fields} for c in choices]}, indent=1) + "\n")


def load_settings() -> dict:
    if not SETTINGS_FILE.exists():
        raise SystemExit(f"{SETTINGS_FILE.name} is missing: run the full mode first (no --quick)")
    return json.loads(SETTINGS_FILE.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true",
                        help=f"settings and references stored by the last full run ({SETTINGS_FILE.name})")
    parser.add_argument("--repetitions", type=int, help="alternating timing repetitions (default 3; --quick: 1)")
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
    args = parser.parse_args()
    if args.child:
        return child(json.loads(args.child))
    log = lambda text: print(text, flush=True)  # noqa: E731
    log(provenance())
    repetitions = args.repetitions or (1 if args.quick else 3)
    if args.quick:
        stored = load_settings()
        refs, choices = stored["references"], [c for c in stored["choices"] if c["problem"] in args.problems]
        log(f"Quick mode: settings and reference positions stored by the full run of {stored['measured']}.")
    else:
        refs, choices = {}, []
        for problem in args.problems:
            refs[problem] = references(problem, log)
            found = searches(problem, refs[problem], log)
            if PROBLEMS[problem].rates().has_mediator:
                explicit_estimate(problem, found, log)
            choices += found
            log(f"{problem}: chosen {[(c['code'], c['family'], c['cells_per_mm'], c['setting']) for c in found]}")
        save_settings(refs, choices)
    timings = time_alternating(choices, repetitions)
    log(f"\nrimmodel vs py-pde, front error tolerance {TOLERANCE:.0%}, medians of {repetitions} alternating "
        "fresh-process runs (ratios < 1: rimmodel faster):\n")
    log("\n".join(table_rows(timings, refs)))
    log("\n" + "\n".join(summary_lines(timings)))


if __name__ == "__main__":
    main()
