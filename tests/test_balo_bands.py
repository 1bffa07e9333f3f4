"""Baló-type bands with the debris-driven attractant (Khonsari–Calvez limit): linear threshold and runs."""

import numpy as np
import pytest

from rimmodel.verification.balo_bands import DebrisAttractantSystem, balo_config, band_run, spared_bands
from rimmodel.verification.report import BALO_FACTORS, BALO_RADIUS, QUICK


@pytest.fixture(scope="module")
def system():
    return DebrisAttractantSystem.from_config(balo_config(0.0, BALO_RADIUS, QUICK.balo_bands[0]))


def test_closed_form_threshold_is_where_the_full_system_turns_unstable(system):
    chi_c = system.critical_sensitivity()
    wavenumbers = np.linspace(0.05, 10.0, 2000)
    assert system.growth_rate_at(0.98 * chi_c, wavenumbers).max() < 0
    rates = system.growth_rate_at(1.02 * chi_c, wavenumbers)
    assert rates.max() > 0
    fastest = 2 * np.pi / wavenumbers[np.argmax(rates)]
    assert fastest == pytest.approx(system.band_spacing(), rel=0.05)


def test_spared_bands_are_interior_maxima_behind_the_front():
    r = np.linspace(0.0, 4.0, 401)
    myelin = np.where(r < 3.0, 0.0, 1.0)
    myelin[(r > 0.9) & (r < 1.1)] = 0.9
    assert spared_bands(r, myelin, front=2.99) == pytest.approx([1.0], abs=0.02)  # the middle of the band
    rising_front = np.clip(r - 2.0, 0.0, 1.0)  # a plain front: no band, whatever the front threshold
    assert spared_bands(r, rising_front, front=2.49).size == 0


@pytest.fixture(scope="module")
def runs(comm, system):
    cell_size, dt = QUICK.balo_bands
    chi_c = system.critical_sensitivity()
    return {factor: band_run(comm, factor * chi_c, BALO_RADIUS, cell_size, dt, end=16.0)
            for factor in BALO_FACTORS}


def test_below_threshold_one_front_leaves_no_spared_band(runs):
    below = runs[min(runs)]
    assert below.most_bands == 0
    assert below.front_radius[-1] > 4.0  # the front did pass


def test_above_threshold_the_front_stalls_and_leaves_a_lasting_band(runs):
    above, below = runs[max(runs)], runs[min(runs)]
    assert above.most_bands >= 1
    assert above.final_bands >= 1
    assert above.banded_years > 4.0
    # the seed's front stands still for years while the one below threshold moves on
    stalled = above.times[(above.front_radius > 0) & (above.front_radius < 0.6)]
    assert stalled.max() - stalled.min() > 4.0
    assert below.front_radius[np.argmin(abs(below.times - 6.0))] > 1.2
