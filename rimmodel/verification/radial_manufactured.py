"""Manufactured solutions for the spherical (radially symmetric) model.

As in ``verification.manufactured``: the forcing is the model's own weak residual at the
exact solution, ``F(v) = M(du_e/dt, v) + G(u_e; v)``, here integrated with the spherical
volume element 4 pi r^2 that the Domain's coordinates put into ``tissue.dx``,
``tissue.dx_reaction`` (lumped: the DG1 row-sum weight) and ``tissue.ds_pial``. Errors are
measured in the same weighted norms (the L2 and H1 norms of the 3D ball). The mesh is the
unit interval in r: white matter for r < 1/2, cortex beyond, the pia at r = 1 (so the
follicle flux and the cortical myelin content are exercised with the weight too).
"""

from __future__ import annotations

import math

import numpy as np
import ufl

from rimmodel.config import load_config
from rimmodel.fem import MPI, fem, mesh as dmesh
from rimmodel.geometry.coordinates import SPHERICAL, Coordinates
from rimmodel.geometry.domain import CORTEX, PIAL, WHITE_MATTER, Domain
from rimmodel.pharmacology.schedule import PiecewiseConstantOccupancy
from rimmodel.physics.equations import FIELDS
from rimmodel.solver.weighted_measure import volume_measure
from rimmodel.verification.manufactured import PARAMETERS, ManufacturedErrors, _ForcedEquations
from rimmodel.verification.problem import build_stepper, march


def smooth_radial_solution(r, t) -> list:
    """Positive, bounded, non-polynomial, even in r (smooth as 3D functions at the centre); one
    profile per declared field (the declared Cartesian profiles are not even in r)."""
    pi, cos = math.pi, ufl.cos
    pulse = 1.0 + 0.3 * ufl.sin(2.0 * t)
    profiles = {
        "microglia": 0.4 + 0.2 * pulse * cos(pi * r),
        "mediator": 1.0 + 0.5 * pulse * cos(0.5 * pi * r**2),
        "follicle_factor": 0.5 + 0.3 * pulse * r**2,
        "myelin": 0.6 + 0.25 * cos(1.5 * pi * r) / pulse,
        "axons": 0.7 + 0.2 * pulse * cos(pi * r**2),
        "tissue": 0.8 + 0.1 * pulse * cos(pi * r),
        "iron": 0.3 + 0.15 * pulse * cos(0.5 * pi * r**2),
    }
    return [profiles[name] for name in FIELDS.names]  # a KeyError names a field without a radial profile


def linear_radial_solution(r, t) -> list:
    """Linear in r (exact in P1), nonlinear in time, about each field's declared level: isolates the
    time-stepping error."""
    rates = (ufl.sin(2.0 * t), ufl.cos(1.5 * t))
    return [f.manufactured.level + f.manufactured.amplitude * rates[i % 2] * r for i, f in enumerate(FIELDS)]


def unit_ball(comm, cells: int) -> Domain:
    """[0, 1] in r: white matter below r = 1/2, cortex above, pia at r = 1."""
    msh = dmesh.create_interval(comm, cells, [0.0, 1.0])
    tdim = msh.topology.dim
    count = msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts
    all_cells = np.arange(count, dtype=np.int32)
    tissue = np.where(dmesh.compute_midpoints(msh, tdim, all_cells)[:, 0] < 0.5, WHITE_MATTER, CORTEX)
    cell_tags = dmesh.meshtags(msh, tdim, all_cells, tissue.astype(np.int32))
    pial = dmesh.locate_entities_boundary(msh, 0, lambda x: np.isclose(x[0], 1.0))
    facet_tags = dmesh.meshtags(msh, 0, pial.astype(np.int32), np.full(pial.size, PIAL, np.int32))
    return Domain(msh, cell_tags, facet_tags, "unit_ball", lambda depth, x: (0.0,), Coordinates(SPHERICAL))


def solve_radial_manufactured(comm, degree: int, cells: int, dt: float, end: float, scheme: str = "bdf2",
                              solution=smooth_radial_solution) -> ManufacturedErrors:
    """Integrate the forced spherical system from the exact state to ``end``; errors there."""
    config = load_config(None, (*PARAMETERS, f"discretisation.degree={degree}",
                                f"discretisation.mass_lumping={'true' if degree == 1 else 'false'}"))
    domain = unit_ball(comm, cells)
    msh = domain.mesh
    time = fem.Constant(msh, 0.0)
    equations = _ForcedEquations(msh, config, PiecewiseConstantOccupancy.from_parameters(config.btk), time, FIELDS)
    t_var = ufl.variable(time)
    exact = ufl.as_vector(solution(domain.coordinates.radial_coordinate(msh), t_var))
    exact_rate = ufl.diff(exact, t_var)

    def forcing(test, tissue):
        return equations.mass(exact_rate, test, tissue) + equations.spatial_residual(exact, test, tissue)

    stepper, _ = build_stepper(domain, config, scheme, equations, forcing)
    space = stepper.state.function_space
    stepper.state.interpolate(fem.Expression(exact, space.element.interpolation_points))
    stepper.initialise()
    t = march(stepper, dt, int(round(end / dt)))
    equations.set_time(t)
    return _weighted_errors(domain, stepper.state, exact, degree)


def _weighted_errors(domain: Domain, state, exact, degree: int) -> ManufacturedErrors:
    dx = volume_measure(domain, metadata={"quadrature_degree": 2 * degree + 6})
    error = state - exact
    comm = domain.mesh.comm
    l2 = comm.allreduce(fem.assemble_scalar(fem.form(ufl.inner(error, error) * dx)), op=MPI.SUM)
    h1 = comm.allreduce(fem.assemble_scalar(fem.form(ufl.inner(ufl.grad(error), ufl.grad(error)) * dx)),
                        op=MPI.SUM)
    space = state.function_space
    return ManufacturedErrors(math.sqrt(l2), math.sqrt(h1), space.dofmap.index_map.size_global * len(FIELDS))


def convergence_table(comm, levels=((1, (16, 32, 64, 128)), (2, (8, 16, 32, 64))),
                      steps=(0.05, 0.025, 0.0125)) -> list[str]:
    """Markdown rows of the spatial (steady, one BDF1 step of 1e6) and temporal orders (docs/radial.md)."""
    from rimmodel.verification.manufactured import observed_order

    steady = lambda r, t: smooth_radial_solution(r, 0.0 * t)  # noqa: E731
    rows = ["| degree | cells | DOFs | L2 error | L2 order | H1 error | H1 order |", "|---|---|---|---|---|---|---|"]
    for degree, cells in levels:
        errors = [solve_radial_manufactured(comm, degree, n, 1e6, 1e6, "bdf1", steady) for n in cells]
        for i, (n, e) in enumerate(zip(cells, errors)):
            orders = ("", "") if i == 0 else tuple(
                f"{observed_order([1 / cells[i - 1], 1 / n], [getattr(errors[i - 1], k), getattr(e, k)]):.2f}"
                for k in ("l2", "h1"))
            rows.append(f"| P{degree} | {n} | {e.dofs} | {e.l2:.3e} | {orders[0]} | {e.h1:.3e} | {orders[1]} |")
    rows += ["", "| scheme | dt | L2 error at t = 1 | order |", "|---|---|---|---|"]
    for scheme in ("bdf1", "bdf2"):
        errors = [solve_radial_manufactured(comm, 1, 4, dt, 1.0, scheme, linear_radial_solution).l2 for dt in steps]
        for i, (dt, e) in enumerate(zip(steps, errors)):
            order = "" if i == 0 else f"{observed_order([steps[i - 1], dt], [errors[i - 1], e]):.2f}"
            rows.append(f"| {scheme} | {dt:g} | {e:.3e} | {order} |")
    return rows


if __name__ == "__main__":
    rows = convergence_table(MPI.COMM_WORLD)
    if MPI.COMM_WORLD.rank == 0:
        print("\n".join(rows))
