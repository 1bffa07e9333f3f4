"""``RadialBatch``: many spherical-lesion samples advanced together, one part each.

All samples share the geometry (ball radius, mesh size), the discretisation, the time
settings, the solver and the observable thresholds; anything in the equations (every
parameter symbol, the lesion seed, the BTK occupancy course) may differ per sample.

The batch shares one time-step sequence. With the adaptive loop a step that one
sample rejects is retried smaller for every sample; with no rejection (the default
model takes none at dt = 0.1 yr) the sequence is exactly that of a single run, and
a batch differs from one-at-a-time runs only by where Newton stops (tests/test_batch.py
measures it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from rimmodel.batch.equations import PartwiseEquations
from rimmodel.batch.observables import PART_SERIES, PartObservables
from rimmodel.batch.parts import RadialParts
from rimmodel.config import ConfigError
from rimmodel.config.geometry_checks import RADIAL_KINDS
from rimmodel.config.parameters import ModelConfig
from rimmodel.fem import MPI
from rimmodel.physics.equations import FIELDS
from rimmodel.physics.initial_state import initial_fields
from rimmodel.solver.discretisation import discretise
from rimmodel.solver.packed_residual import PackedResidual
from rimmodel.solver.stepper import BDFStepper
from rimmodel.solver.time_loop import integrate, stop_times

SHARED_SECTIONS = ("geometry", "discretisation", "time", "solver", "observables")
# On one rank, PETSc's own LU in the natural order: DOLFINx numbers the dofs of a 1D mesh along
# the line, so the block-diagonal, banded Jacobian factorises with no fill beyond its band.
# MUMPS took 10-16 ms per triangular solve of a 15k-DOF batch where this takes 0.15 ms (measured).
SERIAL_LU = {"pc_factor_mat_solver_type": "petsc", "pc_factor_mat_ordering_type": "natural"}


@dataclass
class BatchResult:
    times: np.ndarray                        # (outputs,) yr
    series: dict[str, np.ndarray]            # name -> (parts, outputs), units in PART_SERIES
    steps: int = 0
    rejected: int = 0
    newton_iterations: int = 0
    wall_s: float = 0.0
    units: dict[str, str] = field(default_factory=lambda: dict(PART_SERIES))


class RadialBatch:
    """Builds mesh, forms and solver for ``len(configs)`` samples; ``run()`` integrates them all.
    ``reconfigure(configs)`` takes a new set of as many samples on the same compiled forms. Collective."""

    def __init__(self, configs: list[ModelConfig], comm=MPI.COMM_WORLD):
        _check_shared(configs)
        self.configs, self.comm = list(configs), comm
        base = configs[0]
        self.parts = RadialParts(comm, len(configs), base.geometry.outer_radius, base.geometry.mesh_size)
        self.disc = discretise(self.parts.domain, base, FIELDS)
        self.equations = PartwiseEquations(self.parts, self.configs)
        self.stepper = BDFStepper(self.equations, self.disc.tissue, self.disc.space, base.time.scheme,
                                  batch_solver_options(base.solver.petsc_options, comm),
                                  base.solver.negativity_tolerance, jacobian_reuse=base.solver.jacobian_reuse)
        self.residual = PackedResidual(self.stepper.problem, self.stepper.state)
        self.observables = PartObservables(self.parts, self.stepper.state, base.observables)
        dof_x = self.disc.scalar_space.tabulate_dof_coordinates()[:, 0]
        self.dof_part, self.dof_radius = self.parts.part_of_point(dof_x), self.parts.radius_of_point(dof_x)

    def reconfigure(self, configs: list[ModelConfig]) -> None:
        _check_shared([self.configs[0], *configs])
        if len(configs) != len(self.configs):
            raise ConfigError(f"a batch of {len(self.configs)} samples was given {len(configs)}: build a new one")
        self.configs = list(configs)
        self.equations.set_parameters(self.configs)

    def set_initial_state(self) -> None:
        """Each part seeded with its own sample's lesion, centred at its r = 0."""
        state = self.stepper.state
        points = np.zeros((3, self.dof_radius.size))
        points[0] = self.dof_radius
        for k, config in enumerate(self.configs):
            mine = np.flatnonzero(self.dof_part == k)
            values = initial_fields(points[:, mine], np.zeros(1), config.lesion, self.disc.fields)
            for name, value in values.items():
                state.x.array[self.disc.dofs(name)[mine]] = value
        state.x.scatter_forward()

    def radial_profile(self, part: int, field: str) -> tuple[np.ndarray, np.ndarray]:
        """(r, values) of one field of one part at its nodes, sorted by r, on every rank. Collective."""
        mine = np.flatnonzero(self.dof_part == part)
        owned = self.disc.scalar_space.dofmap.index_map.size_local
        mine = mine[mine < owned]
        values = self.stepper.state.x.array[self.disc.dofs(field)[mine]]
        gathered = self.comm.allgather((self.dof_radius[mine], values))
        r, v = (np.concatenate(parts) for parts in zip(*gathered))
        order = np.argsort(r)
        return r[order], v[order]

    def run(self) -> BatchResult:
        """From the seeded lesions to time.end; per-part series at every output time."""
        started = time.perf_counter()
        settings = self.configs[0].time
        self.set_initial_state()
        self.stepper.initialise()
        self.stepper.jacobian.request_fresh()
        self.equations.set_time(0.0)
        result = BatchResult(times=np.zeros(0), series={})
        times, outputs = [], []

        def on_output(t: float, _next_dt: float) -> None:
            times.append(t)
            outputs.append(self.observables.evaluate())

        def on_step(step) -> None:
            result.steps += step.accepted
            result.rejected += not step.accepted
            result.newton_iterations += step.newton_iterations

        on_output(0.0, settings.dt)
        output_times = stop_times(settings.end, settings.output_interval)
        stops = stop_times(settings.end, settings.output_interval, self.equations.breakpoints())
        integrate(self.stepper, settings.end, settings.dt, settings.dt_min, stops, set(output_times), on_step,
                  on_output)
        result.times = np.array(times)
        result.series = {name: np.stack([o[name] for o in outputs], axis=1) for name in PART_SERIES}
        result.wall_s = self.comm.allreduce(time.perf_counter() - started, op=MPI.MAX)
        return result


def batch_solver_options(options: dict, comm) -> dict:
    """The config's PETSc options; on one rank with a direct solve, the serial banded LU above."""
    if comm.size == 1 and options.get("pc_type") == "lu":
        return options | SERIAL_LU
    return options


def _check_shared(configs: list[ModelConfig]) -> None:
    if not configs:
        raise ConfigError("a batch needs at least one sample")
    base = configs[0]
    if base.geometry.kind not in RADIAL_KINDS:
        raise ConfigError(f"geometry.kind = {base.geometry.kind!r}: batches run the radial model only "
                          f"(allowed {RADIAL_KINDS})")
    for index, config in enumerate(configs[1:], start=1):
        for section in SHARED_SECTIONS:
            if getattr(config, section) != getattr(base, section):
                raise ConfigError(f"sample {index}: [{section}] differs from sample 0; a batch shares "
                                  f"{', '.join(SHARED_SECTIONS)} (run such samples in separate batches)")
