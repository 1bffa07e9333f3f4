"""The spherical (1D radial) model against the same lesion solved in 3D.

The 3D problem is the octant [0, L]^3 of a cube of white matter with the lesion seeded at the
corner (0, 0, 0): the no-flux faces through the centre are symmetry planes, so the octant is
the whole lesion at an eighth of the cost, and the tetrahedral mesh knows nothing of the
spherical symmetry. Both models run the full model with the same config and the
same time steps; the lesion radius is the equivalent radius (3V/4 pi)^(1/3) of the volume
with myelin below the threshold (the octant's volume times eight).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rimmodel.config.parameters import ModelConfig
from rimmodel.fem import MPI, fem, mesh as dmesh
from rimmodel.geometry.depth import depth_below_pia
from rimmodel.geometry.domain import OUTER, PIAL, Domain
from rimmodel.geometry.radial import white_matter_tags
from rimmodel.observables import Observables
from rimmodel.physics.equations import RimEquations
from rimmodel.pharmacology import occupancy_course
from rimmodel.solver.discretisation import discretise, set_initial_state
from rimmodel.solver.stepper import BDFStepper
from rimmodel.solver.time_loop import integrate, stop_times

OCTANT_COPIES = 8


@dataclass
class RadiusTrajectory:
    times: list[float]
    radii: list[float]
    dofs: int
    steps: int
    rejected: int


def octant_box(comm, half_width: float, mesh_size: float) -> Domain:
    """[0, half_width]^3 of white matter, every face no-flux; the lesion centre is the corner."""
    cells = max(math.ceil(half_width / mesh_size), 1)
    msh = dmesh.create_box(comm, [[0.0, 0.0, 0.0], [half_width] * 3], [cells] * 3,
                           cell_type=dmesh.CellType.tetrahedron)
    msh.topology.create_connectivity(2, 3)
    boundary = dmesh.exterior_facet_indices(msh.topology).astype(np.int32)
    facets = dmesh.meshtags(msh, 2, boundary, np.full(boundary.size, OUTER, np.int32))
    return Domain(msh, white_matter_tags(msh), facets, "octant_box", lambda depth, x: (0.0, 0.0, 0.0))


def lesion_radius_trajectory(domain: Domain, config: ModelConfig, copies: int = 1) -> RadiusTrajectory:
    """Run ``config`` on ``domain`` (no run directory); the equivalent radius at every output time
    of ``copies`` mirror images of the domain. Collective."""
    run = observable_trajectories(domain, config, copies, ("lesion_size",))
    radii = [(3.0 * v / (4.0 * math.pi)) ** (1 / 3) for v in run.series["lesion_size"]]
    return RadiusTrajectory(run.times, radii, run.dofs, run.steps, run.rejected)


@dataclass
class ObservableTrajectories:
    times: list[float]
    series: dict[str, list[float]]   # sizes of the whole body: ``copies`` times the domain's
    dofs: int
    steps: int
    rejected: int


def observable_trajectories(domain: Domain, config: ModelConfig, copies: int, names) -> ObservableTrajectories:
    """Run ``config`` on ``domain`` (no run directory); the observables ``names`` at every output time,
    sizes multiplied by ``copies`` (mirror images of a symmetric domain). Collective."""
    equations = RimEquations(domain.mesh, config, occupancy_course(config))
    disc = discretise(domain, config, equations.fields)
    stepper = BDFStepper(equations, disc.tissue, disc.space, config.time.scheme, config.solver.petsc_options,
                         config.solver.negativity_tolerance, jacobian_reuse=config.solver.jacobian_reuse)
    depth = _depth(domain, disc.scalar_space)
    observables = Observables(disc, stepper.state, depth, config.observables, config.geometry.cortex_thickness)
    set_initial_state(stepper.state, disc, config)
    stepper.initialise()
    equations.set_time(0.0)
    found = ObservableTrajectories([], {name: [] for name in names}, disc.global_dofs(), 0, 0)

    def record(t: float, _next_dt: float) -> None:
        values = observables.evaluate()
        found.times.append(t)
        for name in names:
            found.series[name].append(copies * values[name])

    def count(step) -> None:
        found.steps += step.accepted
        found.rejected += not step.accepted

    record(0.0, config.time.dt)
    outputs = stop_times(config.time.end, config.time.output_interval)
    integrate(stepper, config.time.end, config.time.dt, config.time.dt_min, outputs, set(outputs), count, record)
    return found


def _depth(domain: Domain, space) -> fem.Function:
    """Depth below the pia; infinite (no cortical bins to fill) for a domain without one."""
    pial = domain.mesh.comm.allreduce(domain.facet_tags.find(PIAL).size, op=MPI.SUM)
    if pial:
        return depth_below_pia(domain, space)
    depth = fem.Function(space)
    depth.x.array[:] = np.inf
    return depth


def relative_difference(trajectory: RadiusTrajectory, reference: RadiusTrajectory) -> np.ndarray:
    """|r - r_ref| / r_ref at the common output times."""
    r, ref = np.asarray(trajectory.radii), np.asarray(reference.radii)
    if not np.allclose(trajectory.times, reference.times):
        raise ValueError("the two trajectories have different output times")
    return np.abs(r - ref) / ref
