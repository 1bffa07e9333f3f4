"""Verification: the discretisation converges at the theoretical rates and honours exact limits.

Observed orders are the slopes between the two finest levels; tolerance +-0.15.
"""

import math

import pytest

from rimmodel.verification.conservation import chemotaxis_conservation
from rimmodel.verification.fisher_kpp import front_speed
from rimmodel.verification.manufactured import (linear_solution, observed_order, smooth_solution,
                                                solve_manufactured)

ORDER_TOLERANCE = 0.15


def stationary_solution(x, t, dim, fields):
    return smooth_solution(x, 0.0 * t, dim, fields)


@pytest.mark.parametrize("dim, degree, levels", [(2, 1, (8, 16, 32)), (2, 2, (8, 16, 32)),
                                                 (3, 1, (4, 8, 16)), (3, 2, (2, 4, 8))])
def test_manufactured_solution_converges_at_optimal_rates(comm, dim, degree, levels):
    """All five fields, chemotaxis, follicle pial flux and BTK terms active."""
    errors = [solve_manufactured(comm, dim, degree, cells, dt=1e6, end=1e6, scheme="bdf1",
                                 solution=stationary_solution) for cells in levels[-2:]]
    sizes = [1.0 / cells for cells in levels[-2:]]
    assert observed_order(sizes, [e.l2 for e in errors]) == pytest.approx(degree + 1, abs=ORDER_TOLERANCE)
    assert observed_order(sizes, [e.h1 for e in errors]) == pytest.approx(degree, abs=ORDER_TOLERANCE)


@pytest.mark.parametrize("scheme, order", [("bdf1", 1), ("bdf2", 2)])
def test_time_stepping_converges_at_its_order(comm, scheme, order):
    """A solution linear in space (exact in P1) isolates the time-stepping error."""
    steps = (0.05, 0.025)
    errors = [solve_manufactured(comm, 2, 1, 4, dt=dt, end=1.0, scheme=scheme, solution=linear_solution).l2
              for dt in steps]
    assert observed_order(list(steps), errors) == pytest.approx(order, abs=ORDER_TOLERANCE)


def test_fisher_kpp_front_speed_converges_to_two_sqrt_dr(comm):
    coarse = front_speed(comm, cell_size=0.4, dt=0.2)
    fine = front_speed(comm, cell_size=0.2, dt=0.1)
    assert fine.theory == pytest.approx(2.0 * math.sqrt(1.0 * 1.0))
    assert fine.relative_error < 0.02
    assert fine.relative_error < coarse.relative_error / 2  # converging, not just close


def test_chemotaxis_conserves_microglia_and_keeps_them_nonnegative(comm):
    result = chemotaxis_conservation(comm)
    assert result.centroid_shift > 0.05          # the cells really moved up the gradient
    assert result.relative_drift < 1e-10
    assert result.minimum >= -1e-12


def test_chemotactic_instability_threshold_and_wavelength(comm):
    """Below chi_c perturbations of the activated plaque decay; above, bands grow at the predicted spacing."""
    from rimmodel.config import load_config
    from rimmodel.verification.chemotactic_instability import (Subsystem, critical_sensitivity,
                                                               fastest_wavelength, pattern_run)

    system = Subsystem.from_config(load_config(None, ("follicles.pial_flux=0.0",)))
    chi_c = critical_sensitivity(system)
    assert load_config().microglia.chemotactic_sensitivity < chi_c  # defaults: homogeneous plaques
    below, above = pattern_run(comm, 0.8 * chi_c), pattern_run(comm, 2.0 * chi_c)
    assert below.final_amplitude < below.initial_amplitude / 2
    assert above.final_amplitude > 10 * above.initial_amplitude
    assert above.wavelength == pytest.approx(fastest_wavelength(system, 2.0 * chi_c), rel=0.15)
