"""Manufactured solutions for the full coupled system: every declared field, chemotaxis, pial flux.

The forcing is the model's own weak residual evaluated at the exact solution,
``F(v) = M(du_e/dt, v) + G(u_e; v)``, so u_e solves the forced problem exactly for
every test function, boundary fluxes included (the pial flux term is kept and
compensated, the other boundaries get the exact solution's flux). The discrete
error then measures only the discretisation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import ufl

from rimmodel.config import ModelConfig, load_config
from rimmodel.fem import MPI, fem, mesh as dmesh
from rimmodel.geometry.domain import CORTEX, OUTER, PIAL, WHITE_MATTER, Domain
from rimmodel.physics.equations import FIELDS, RimEquations
from rimmodel.physics.fields import FieldSet
from rimmodel.pharmacology.schedule import PiecewiseConstantOccupancy
from rimmodel.verification.problem import build_stepper, march

# O(1) rates so that every term matters at unit length and time scales
PARAMETERS = (
    "microglia.diffusivity=0.1", "microglia.chemotactic_sensitivity=0.2", "microglia.activation_rate=1.0",
    "microglia.basal_growth_rate=0.5", "microglia.resting_pool=0.1", "microglia.deactivation_rate=0.5",
    "microglia.follicle_weight=0.5", "mediator.diffusivity=1.0", "mediator.decay_rate=2.0",
    "mediator.debris_production=1.0", "mediator.microglial_production=0.2", "follicles.diffusivity=0.5",
    "follicles.decay_rate=1.0", "follicles.pial_flux=1.0", "myelin.microglial_damage_rate=0.5",
    "myelin.follicle_damage_rate=0.3", "myelin.remyelination_rate=0.4", "myelin.cortical_content=0.5",
    "axons.microglial_damage_rate=0.3", "axons.follicle_damage_rate=0.2", "axons.demyelination_amplification=1.0",
    "axons.demyelinated_degeneration_rate=0.1", "btk.microglial_efficacy=0.5", "btk.bcell_efficacy=0.5",
    "btk.cns_occupancy=0.4", "btk.peripheral_occupancy=0.6",
    "follicles.patches=[{centre=[0.3, 1.0], width=0.4, density=1.0}]", "mediator.debris_release=0.3",
    "tissue.resorption_rate=0.5", "tissue.myelin_volume_fraction=0.3", "tissue.axon_volume_fraction=0.4",
    "iron.uptake_yield=1.0", "iron.uptake_half_saturation=0.5", "iron.clearance_rate=0.4",
)


def smooth_solution(x, t, dim: int, fields: FieldSet = FIELDS) -> list:
    """Each field's declared smooth profile: positive, bounded, non-polynomial, slow in time."""
    return [f.manufactured.smooth(x, t, dim) for f in fields]


def linear_solution(x, t, dim: int, fields: FieldSet = FIELDS) -> list:
    """Linear in space (exact in P1), nonlinear in time: isolates the time-stepping error.
    Field i oscillates as sin(2t) (even i) or cos(1.5t) (odd i) about its declared level."""
    space = sum(x[i] for i in range(dim)) / dim
    rates = (ufl.sin(2.0 * t), ufl.cos(1.5 * t))
    return [f.manufactured.level + f.manufactured.amplitude * rates[i % 2] * space for i, f in enumerate(fields)]


@dataclass
class ManufacturedErrors:
    l2: float   # sqrt(sum over fields of ||u_h - u_e||^2)
    h1: float   # same with the H1 seminorm
    dofs: int


def unit_domain(comm, dim: int, cells: int) -> Domain:
    """Unit square/cube: white matter for x < 1/2, cortex above; pia on top (y = 1)."""
    if dim == 2:
        msh = dmesh.create_unit_square(comm, cells, cells)
    else:
        msh = dmesh.create_unit_cube(comm, cells, cells, cells)
    tdim = msh.topology.dim
    count = msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts
    all_cells = np.arange(count, dtype=np.int32)
    tissue = np.where(dmesh.compute_midpoints(msh, tdim, all_cells)[:, 0] < 0.5, WHITE_MATTER, CORTEX)
    cell_tags = dmesh.meshtags(msh, tdim, all_cells, tissue.astype(np.int32))
    fdim = tdim - 1
    pial = dmesh.locate_entities_boundary(msh, fdim, lambda p: np.isclose(p[1], 1.0))
    boundary = dmesh.locate_entities_boundary(msh, fdim, lambda p: np.full(p.shape[1], True))
    outer = np.setdiff1d(boundary, pial)
    facets = np.concatenate([pial, outer]).astype(np.int32)
    values = np.concatenate([np.full(pial.size, PIAL), np.full(outer.size, OUTER)]).astype(np.int32)
    order = np.argsort(facets)
    facet_tags = dmesh.meshtags(msh, fdim, facets[order], values[order])
    return Domain(msh, cell_tags, facet_tags, "unit", lambda depth, x: (x, 1.0 - depth))


class _ForcedEquations(RimEquations):
    """The model's equations with the manufactured time advanced alongside the state."""

    def __init__(self, msh, config, occupancy, time: fem.Constant, fields: FieldSet):
        self.manufactured_time = time  # before super(): its __init__ calls set_time
        super().__init__(msh, config, occupancy, fields)

    def set_time(self, t: float) -> None:
        super().set_time(t)
        self.manufactured_time.value = t


def solve_manufactured(comm, dim: int, degree: int, cells: int, dt: float, end: float,
                       scheme: str = "bdf2", solution=smooth_solution, fields: FieldSet = FIELDS,
                       overrides: tuple[str, ...] = (), schema: type = ModelConfig) -> ManufacturedErrors:
    """Integrate the forced system of ``fields`` from the exact initial state to ``end``; return the
    errors there. ``solution(x, t, dim, fields)`` gives the exact fields; ``overrides`` set parameters
    of ``schema`` (a ModelConfig subclass when a new field brings its own section)."""
    config = load_config(None, (*PARAMETERS, *overrides, f"discretisation.degree={degree}",
                                f"discretisation.mass_lumping={'true' if degree == 1 else 'false'}"), schema)
    domain = unit_domain(comm, dim, cells)
    msh = domain.mesh
    time = fem.Constant(msh, 0.0)
    occupancy = PiecewiseConstantOccupancy.from_parameters(config.btk)
    equations = _ForcedEquations(msh, config, occupancy, time, fields)
    t_var = ufl.variable(time)
    exact = ufl.as_vector(solution(ufl.SpatialCoordinate(msh), t_var, dim, fields))
    exact_rate = ufl.diff(exact, t_var)

    def forcing(test, tissue):
        return equations.mass(exact_rate, test, tissue) + equations.spatial_residual(exact, test, tissue)

    stepper, _ = build_stepper(domain, config, scheme, equations, forcing)
    space = stepper.state.function_space
    stepper.state.interpolate(fem.Expression(exact, space.element.interpolation_points))
    stepper.initialise()
    t = march(stepper, dt, int(round(end / dt)))
    equations.set_time(t)
    return _errors(stepper.state, exact, degree, space)


def _errors(state, exact, degree: int, space) -> ManufacturedErrors:
    dx = ufl.dx(metadata={"quadrature_degree": 2 * degree + 4})
    error = state - exact
    comm = space.mesh.comm
    l2 = comm.allreduce(fem.assemble_scalar(fem.form(ufl.inner(error, error) * dx)), op=MPI.SUM)
    h1 = comm.allreduce(fem.assemble_scalar(fem.form(ufl.inner(ufl.grad(error), ufl.grad(error)) * dx)),
                        op=MPI.SUM)
    dofs = space.dofmap.index_map.size_global * space.dofmap.index_map_bs
    return ManufacturedErrors(math.sqrt(l2), math.sqrt(h1), dofs)


def observed_order(sizes: list[float], errors: list[float]) -> float:
    """Least-squares slope of log(error) against log(size)."""
    return float(np.polyfit(np.log(sizes), np.log(errors), 1)[0])
