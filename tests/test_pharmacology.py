"""Pharmacokinetics against closed forms, target engagement, regimens, and the model coupling."""

import math

import numpy as np
import pytest

from rimmodel.config import ConfigError, load_config
from rimmodel.config.treatment import TreatmentParameters
from rimmodel.pharmacology import occupancy_course
from rimmodel.pharmacology.binding import CovalentBinding
from rimmodel.pharmacology.course import dose_schedule
from rimmodel.pharmacology.drugs import DRUGS
from rimmodel.pharmacology.pk import OralPK


def test_single_dose_matches_the_bateman_function():
    pk = OralPK(absorption_rate=1.5, clearance=20.0, central_volume=100.0)
    grid = np.arange(0.0, 48.0, 0.05)
    numeric = pk.plasma_concentration(np.array([0.0]), np.array([50.0]), grid)
    assert numeric == pytest.approx(pk.single_dose(50.0, grid), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("intercompartmental", [0.0, 15.0])
def test_steady_state_mean_is_dose_over_clearance_and_interval(intercompartmental):
    pk = OralPK(1.0, 10.0, 80.0, intercompartmental, 200.0)  # two compartments when Q > 0
    step, interval = 0.01, 12.0
    grid = np.arange(0.0, 24 * 40, step)
    doses = np.arange(0.0, grid[-1], interval)
    plasma = pk.plasma_concentration(doses, np.full(doses.size, 100.0), grid)
    last_interval = plasma[-int(round(interval / step)):]
    assert last_interval.mean() == pytest.approx(pk.steady_state_average(100.0, interval), rel=2e-3)


def test_covalent_occupancy_recovers_with_the_resynthesis_half_life():
    binding = CovalentBinding(inactivation_rate=2.0, inhibition_constant_nm=1.0, resynthesis_half_life_h=130.0)
    step = 0.5
    exposure = np.where(np.arange(0.0, 2000.0, step) < 24.0, 50.0, 0.0)  # a day of exposure, then none
    occupancy = binding.occupancy(exposure, step)
    later = np.arange(0.0, 2000.0, step) > 200.0
    slope = np.polyfit(np.arange(0.0, 2000.0, step)[later], np.log(occupancy[later]), 1)[0]
    assert math.log(2) / -slope == pytest.approx(130.0, rel=1e-6)
    assert occupancy.max() > 0.9  # outlasts the one day of exposure


@pytest.mark.parametrize("name", sorted(DRUGS))
def test_occupancy_stays_in_the_unit_interval(name):
    config = load_config(None, (f"treatment.drug={name}", "time.end=0.5"))
    course = occupancy_course(config)
    for series in (course.exposure.cns_occupancy, course.exposure.peripheral_occupancy):
        assert series.min() >= 0.0 and series.max() <= 1.0
    assert 0.0 < course.cns(0.4) <= 1.0


def test_occupancy_rises_with_dose():
    levels = [occupancy_course(load_config(None, ("treatment.drug=fenebrutinib", f"treatment.dose_mg={dose}",
                                                  "time.end=0.2"))).cns(0.1) for dose in (0.0, 20.0, 200.0, 800.0)]
    assert levels[0] == 0.0 and np.all(np.diff(levels) > 0)


def test_adherence_draws_missed_doses_reproducibly():
    regimen = TreatmentParameters(drug="tolebrutinib", adherence=0.8, seed=7, interval_h=24.0)
    times, _ = dose_schedule(regimen, end_h=24 * 1000.0)
    again, _ = dose_schedule(regimen, end_h=24 * 1000.0)
    assert np.array_equal(times, again)
    assert times.size == pytest.approx(800, abs=40)


@pytest.mark.parametrize("override, key", [
    ("treatment.drug=aspirin", "treatment.drug"),
    ("treatment.interval_h=0", "treatment.interval_h"),
    ("treatment.adherence=1.5", "treatment.adherence"),
])
def test_bad_regimens_name_the_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(None, (override,))


def test_impossible_or_ambiguous_regimens_are_rejected():
    with pytest.raises(ConfigError, match="treatment.stop"):
        load_config(None, ("treatment.drug=tolebrutinib", "treatment.start=5", "treatment.stop=2"))
    with pytest.raises(ConfigError, match="both set"):
        load_config(None, ("treatment.drug=tolebrutinib", "btk.cns_occupancy=0.5"))


def test_zero_dose_is_untreated_to_round_off(shared_dir):
    from rimmodel.simulation import Simulation

    small = ("output.progress=false", "output.fields=false", "geometry.mesh_size=0.3", "time.end=1.0")
    untreated = Simulation(load_config(None, small)).run(shared_dir / "none")
    zero = Simulation(load_config(None, (*small, "treatment.drug=tolebrutinib", "treatment.dose_mg=0"))).run(
        shared_dir / "zero")
    # bit for bit serially; on 2 ranks iron_total once differed in its last digit (1e-16 relative)
    for name, values in untreated.series.items():
        np.testing.assert_allclose(zero.series[name], values, rtol=1e-12, atol=1e-15, err_msg=name)


def test_a_dosed_drug_slows_the_lesion_and_late_start_helps_less(shared_dir):
    from rimmodel.simulation import Simulation

    small = ("output.progress=false", "output.fields=false", "geometry.mesh_size=0.3", "time.end=4.0")
    growth = {}
    simulation = None
    for arm, extra in (("placebo", ()), ("early", ("treatment.drug=tolebrutinib",)),
                       ("late", ("treatment.drug=tolebrutinib", "treatment.start=2.0"))):
        config = load_config(None, (*small, *extra))
        if simulation is None:
            simulation = Simulation(config)
        else:
            simulation.reconfigure(config)
        record = simulation.run(shared_dir / arm)
        growth[arm] = record.series["lesion_size"][-1] - record.series["lesion_size"][0]
    assert growth["early"] < growth["late"] < growth["placebo"]
