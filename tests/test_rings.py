"""Concentric rings in 2D: the chemotactic instability of a round plaque (verification)."""

import pytest

from rimmodel.config import load_config
from rimmodel.verification.chemotactic_instability import Subsystem, critical_sensitivity, fastest_wavelength
from rimmodel.verification.report import QUICK, RING_CASES
from rimmodel.verification.rings import quarter_disc_domain, ring_run


@pytest.fixture(scope="module")
def threshold():
    system = Subsystem.from_config(load_config(None, ("follicles.pial_flux=0.0",)))
    return system, critical_sensitivity(system)


def test_quarter_disc_has_the_disc_area(comm):
    import math

    import ufl

    from rimmodel.fem import MPI, fem

    domain = quarter_disc_domain(comm, 3.0, 0.1)
    area = comm.allreduce(fem.assemble_scalar(fem.form(1.0 * ufl.dx(domain=domain.mesh))), op=MPI.SUM)
    assert area == pytest.approx(math.pi * 9 / 4, rel=2e-3)


def test_plaque_below_threshold_stays_homogeneous(comm, threshold):
    _, chi_c = threshold
    factor, years = RING_CASES[0]
    run = ring_run(comm, factor * chi_c, *QUICK.ring_disc, end=years)
    assert run.final_amplitude < run.initial_amplitude / 5


def test_plaque_above_threshold_forms_rings_at_the_fastest_wavelength(comm, threshold):
    system, chi_c = threshold
    factor, years = RING_CASES[1]
    run = ring_run(comm, factor * chi_c, *QUICK.ring_disc, end=years)
    predicted = fastest_wavelength(system, factor * chi_c)
    assert run.final_amplitude > 1e3 * run.initial_amplitude
    assert len(run.ring_radii) >= 3
    assert run.ring_spacing == pytest.approx(predicted, rel=0.15)
    assert run.wavelength == pytest.approx(predicted, rel=0.15)
