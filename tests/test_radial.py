"""The spherical (radially symmetric) lesion model: weighted measures, MMS orders, 3D volumes, 3D agreement."""

import math

import numpy as np
import pytest
import ufl

from rimmodel.config import ConfigError, load_config
from rimmodel.fem import MPI, fem
from rimmodel.geometry import build_domain
from rimmodel.solver.weighted_measure import lumped_weight, volume_measure
from rimmodel.verification.manufactured import observed_order
from rimmodel.verification.radial_manufactured import (linear_radial_solution, smooth_radial_solution,
                                                       solve_radial_manufactured)
from rimmodel.verification.spherical_3d import (OCTANT_COPIES, lesion_radius_trajectory, octant_box,
                                                relative_difference)

ORDER_TOLERANCE = 0.15
SPHERICAL = ['geometry.kind="spherical_lesion"', "geometry.outer_radius=5.0", "geometry.mesh_size=0.05"]
QUIET = ["output.fields=false", "output.progress=false", "output.checkpoints=false"]


def _integral(form) -> float:
    return MPI.COMM_WORLD.allreduce(fem.assemble_scalar(fem.form(form)), op=MPI.SUM)


def test_weighted_measures_integrate_the_ball(comm):
    config = load_config(None, SPHERICAL)
    domain = build_domain(config.geometry, comm)
    ball = 4.0 / 3.0 * math.pi * 5.0**3
    assert _integral(1.0 * volume_measure(domain)) == pytest.approx(ball, rel=1e-12)
    r = domain.coordinates.radial_coordinate(domain.mesh)
    assert _integral(r * volume_measure(domain)(metadata={"quadrature_degree": 3})) == \
        pytest.approx(math.pi * 5.0**4, rel=1e-12)
    # the lumped weight: vertex quadrature gives exact row sums, and mass at the centre node
    vertex = ufl.Measure("dx", domain=domain.mesh, metadata={"quadrature_rule": "vertex", "quadrature_degree": 1})
    weight = lumped_weight(domain.mesh, domain.coordinates.volume_element(domain.mesh))
    assert _integral(weight * vertex) == pytest.approx(ball, rel=1e-12)
    centre_cells = np.flatnonzero(np.isclose(weight.function_space.tabulate_dof_coordinates()[:, 0], 0.0))
    assert np.all(weight.x.array[centre_cells] > 0)


@pytest.mark.parametrize("degree, levels", [(1, (32, 64)), (2, (16, 32))])
def test_spherical_manufactured_solution_converges_at_optimal_rates(comm, degree, levels):
    """All five fields in r^2-weighted form, chemotaxis, cortex content and the pial flux at r = 1."""
    steady = lambda r, t: smooth_radial_solution(r, 0.0 * t)  # noqa: E731
    errors = [solve_radial_manufactured(comm, degree, cells, 1e6, 1e6, "bdf1", steady) for cells in levels]
    sizes = [1.0 / cells for cells in levels]
    assert observed_order(sizes, [e.l2 for e in errors]) == pytest.approx(degree + 1, abs=ORDER_TOLERANCE)
    assert observed_order(sizes, [e.h1 for e in errors]) == pytest.approx(degree, abs=ORDER_TOLERANCE)


def test_spherical_time_stepping_is_second_order(comm):
    steps = (0.025, 0.0125)
    errors = [solve_radial_manufactured(comm, 1, 4, dt, 1.0, "bdf2", linear_radial_solution).l2 for dt in steps]
    assert observed_order(list(steps), errors) == pytest.approx(2.0, abs=ORDER_TOLERANCE)


def test_spherical_run_reports_3d_volumes(comm, shared_dir):
    from rimmodel.simulation import Simulation

    config = load_config(None, SPHERICAL + QUIET + ["time.end=1.0"])
    record = Simulation(config, comm).run(shared_dir / "run")
    assert record.status == "completed" and record.dimension == 3
    assert record.units["lesion_size"] == "mm^3"
    size, radius = np.array(record.series["lesion_size"]), np.array(record.series["lesion_equivalent_radius"])
    assert radius == pytest.approx((3 * size / (4 * math.pi)) ** (1 / 3), rel=1e-12)
    # the seed's myelin crosses 0.5 where its tanh profile reaches 0.5 / 0.95
    seeded = 1.0 + 0.1 * math.atanh(1.0 - 2.0 * 0.5 / 0.95)
    assert radius[0] == pytest.approx(seeded, abs=2e-3)
    assert radius[-1] > radius[0]  # the rim expands


def test_spherical_config_errors_name_the_field():
    with pytest.raises(ConfigError, match=r"lesion.radius = 6.0 .* \[0.05, 5.0\)"):
        load_config(None, SPHERICAL + ["lesion.radius=6.0"])
    with pytest.raises(ConfigError, match="geometry.mesh_size = 2.0"):
        load_config(None, SPHERICAL + ["geometry.mesh_size=2.0"])


def test_radial_model_agrees_with_a_3d_octant(comm):
    """Half a year on a coarse octant: a smoke-sized version of benchmarks/radial_vs_3d.py."""
    config_3d = load_config(None, ["time.end=0.5", "time.output_interval=0.25"])
    octant = lesion_radius_trajectory(octant_box(comm, 2.5, 0.25), config_3d, OCTANT_COPIES)
    config_1d = load_config(None, SPHERICAL + ["time.end=0.5", "time.output_interval=0.25",
                                               "geometry.mesh_size=0.02"])
    radial = lesion_radius_trajectory(build_domain(config_1d.geometry, comm), config_1d)
    assert relative_difference(octant, radial).max() < 0.02


def test_axisymmetric_lesion_reports_3d_volumes_and_feels_the_follicle(comm):
    """The r-z section: 3D volumes (2 pi r weight) and subpial damage under a follicle disc on the axis."""
    from rimmodel.verification.axisymmetric_3d import configs, run_axisymmetric

    axisymmetric, _ = configs(3.0, 0.1, 0.5, ["time.output_interval=0.25"])
    run = run_axisymmetric(axisymmetric, comm)
    seeded = 1.0 + 0.1 * math.atanh(1.0 - 2.0 * 0.5 / 0.95)
    assert run.series["lesion_size"][0] == pytest.approx(4 / 3 * math.pi * seeded**3, rel=0.03)
    assert run.series["cortical_axon_loss"][-1] > 0.0  # follicle factor reaches the cortex under the disc


def test_axisymmetric_weight_integrates_the_cylinder(comm):
    config = load_config(None, ['geometry.kind="axisymmetric_lesion"', "geometry.width=3.0",
                                "geometry.mesh_size=0.25"])
    domain = build_domain(config.geometry, comm)
    height = config.geometry.white_matter_depth + config.geometry.cortex_thickness
    assert _integral(1.0 * volume_measure(domain)) == pytest.approx(math.pi * 3.0**2 * height, rel=1e-12)
