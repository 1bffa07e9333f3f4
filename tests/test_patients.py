"""Virtual patients and trial designs: populations, disability, confirmed worsening, analysis, the
whole pipeline on an analytic lesion library (fast), and its reproducibility over ranks."""

import numpy as np
import pytest

from rimmodel.config import ConfigError
from rimmodel.config.treatment import TreatmentParameters
from rimmodel.fem import MPI
from rimmodel.patients.analysis import cox_hazard_ratio, rate_ratio
from rimmodel.patients.design import design_from_dict
from rimmodel.patients.disability import (CohortArrays, DisabilityModel, Endpoints, calibrate_scale,
                                          component_norms, confirmed_worsening, event_proportion)
from rimmodel.patients.draws import DrawsTable, load_draws, read_csv_draws
from rimmodel.patients.occupancy import OccupancyCourse
from rimmodel.patients.population import InclusionCriteria, NaturalHistory, draw_patient, quantise_edss
from rimmodel.patients.run import run_design
from rimmodel.patients.simulate import randomise
from rimmodel.patients.trajectories import BuildReport, CortexCourse, LesionCourses, sphere_volume


class AnalyticLesions:
    """A LesionTrajectories with closed-form courses: rims advance at 0.15 mm/yr, slowed by CNS occupancy;
    the cortex under follicles loses axons linearly, less under peripheral occupancy."""

    horizon = 14.0   # 3-yr follow-up + baseline lesions up to 10 yr old (rounded to the section step)

    def ensure(self, lesions, cortices, comm):
        return BuildReport(cached=len(set(lesions)) + len(set(cortices)))

    def lesions(self, kind, radius, times, age=0.0):
        age = np.broadcast_to(np.asarray(age, float), np.shape(radius))
        assert np.all(age + np.max(times) <= self.horizon + 1e-9)
        cns = np.array([kind.course.level(a)[0] for a in age])   # the course from randomisation (the lesion's age)
        speed = 0.15 * (1.0 - 0.5 * cns) if kind.rim else np.zeros(age.size)
        times = np.asarray(times)
        radius = np.asarray(radius)[:, None] + speed[:, None] * times[None, :]
        volume = sphere_volume(radius)
        lived = age[:, None] + times[None, :]
        rim = volume * (0.3 if kind.rim else 0.0) * np.exp(-lived / 7.0)
        axons = volume * (0.2 + 0.04 * lived * (1.0 if kind.rim else 0.2))
        return LesionCourses(radius, volume, rim, axons, 0.02 * volume * lived, 0.5 * rim)

    def cortex(self, kind, times):
        pace = 1.0 - 0.9 * kind.course.level(0.0)[1]
        return CortexCourse(0.01 * pace * np.asarray(times), 0.001 * pace * np.asarray(times))


def design(**changes):
    raw = {"design": {"name": "test", "seed": 11, "patients": 240, "replicates": 2},
           "population": {"phenotype": "nrSPMS", "inclusion": {"edss_min": 3.0, "edss_max": 6.5}},
           "arms": [{"name": "btki", "drug": "tolebrutinib", "dose_mg": 60.0, "interval_h": 24.0},
                    {"name": "comparator", "kind": "anti_inflammatory", "drug": "none",
                     "inflammation_rate_ratio": 0.3}],
           "follow_up": {"years": 3.0},
           "calibration": {"placebo_event_proportion": 0.3, "follow_up": 2.5, "patients": 400},
           "analysis": {"sensitivity": False}}
    for dotted, value in changes.items():
        node = raw
        *path, last = dotted.split(".")
        for key in path:
            node = node.setdefault(key, {})
        node[last] = value
    return design_from_dict(raw)


# -- the EDSS scale and confirmed worsening -------------------------------------------------------
def test_edss_is_rounded_to_its_steps():
    latent = np.array([-1.0, 0.2, 0.6, 1.1, 1.3, 4.74, 4.76, 9.9])
    assert quantise_edss(latent).tolist() == [0.0, 0.0, 1.0, 1.0, 1.5, 4.5, 5.0, 9.5]


def test_confirmed_worsening_follows_the_trial_definition():
    visits = np.arange(0.0, 2.01, 0.25)                      # confirmation 0.5 yr = 2 visits later
    endpoints = Endpoints(confirmation=0.5, edss_cutoff=5.5)
    measured = np.array([
        [4.0, 4.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0],       # +1.0 at visit 2, confirmed at 4
        [4.0, 5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0],       # transient: never confirmed
        [6.0, 6.0, 6.0, 6.5, 6.0, 6.5, 6.5, 6.5, 6.5],       # +0.5 above 5.5: onset 3 not confirmed at 5? yes
        [5.5, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0],       # baseline 5.5 needs +1.0: none
        [0.0, 1.0, 1.0, 1.0, 1.5, 1.5, 1.5, 1.5, 1.5],       # from 0 needs +1.5: onset 4
        [4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 5.0, 5.0],       # onset at 7: no visit 6 months later
    ])
    onset, confirm = confirmed_worsening(measured, visits, endpoints)
    assert onset.tolist() == [2, -1, 3, -1, 4, -1]
    assert confirm.tolist() == [4, -1, 5, -1, 6, -1]
    dip = np.array([[4.0, 5.0, 4.5, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0]])
    assert confirmed_worsening(dip, visits, endpoints)[0].tolist() == [1]
    assert confirmed_worsening(dip, visits, Endpoints(confirmation=0.5, sustained=True))[0].tolist() == [3]


def synthetic_cohort(patients=800, seed=0):
    rng = np.random.default_rng(seed)
    visits = np.arange(0.0, 3.01, 0.25)
    damage = np.zeros((patients, visits.size, 5))
    pace = rng.gamma(2.0, 0.5, patients)
    damage[:, :, 0] = pace[:, None] * visits[None, :]          # white-matter lesion axon loss
    damage[:, :, 3] = rng.random(patients)[:, None] * visits   # cortex
    damage[:, :, 4] = 0.1 * damage[:, :, 0]                    # tissue
    return CohortArrays(visits, damage, rng.normal(48, 7, patients), rng.uniform(3, 6.5, patients),
                        rng.standard_normal(patients), np.full((patients, 0), np.nan), np.zeros((patients, 0)),
                        rng.standard_normal((patients, visits.size)))


def test_calibration_reaches_the_placebo_target_and_more_damage_means_more_events():
    cohort, model, endpoints = synthetic_cohort(), DisabilityModel(), Endpoints()
    norms = component_norms(cohort, model)
    found = calibrate_scale(cohort, model, endpoints, norms, target=0.3, follow_up=2.5)
    assert found.floor < 0.3 <= found.achieved < 0.3 + 3 / 800
    proportions = [event_proportion(cohort, model, endpoints, g, norms, 2.5) for g in (0.0, 0.5, 1.0, 2.0)]
    assert proportions == sorted(proportions) and proportions[-1] > proportions[0]


def test_an_unreachable_placebo_target_is_refused_with_the_reason():
    cohort, model = synthetic_cohort(200), DisabilityModel()
    with pytest.raises(ConfigError, match="out of reach"):
        calibrate_scale(cohort, model, Endpoints(confirmation=5.0), component_norms(cohort, model), 0.3, 2.5)


def test_shares_must_add_up_and_arm_names_are_safe_unique_slugs():
    with pytest.raises(ConfigError, match=r"disability\.lesion_share"):
        design(**{"disability.lesion_share": 0.9})


@pytest.mark.parametrize("changes, key", [
    ({"arms": [{"name": "tole 60", "drug": "tolebrutinib"}]}, r"arms\[0\]\.name"),
    ({"arms": [{"name": "../x", "drug": "tolebrutinib"}]}, r"arms\[0\]\.name"),
    ({"arms": [{"name": "Placebo", "drug": "tolebrutinib"}]}, r"arms\[0\]\.name"),
    ({"arms": [{"name": "a", "drug": "tolebrutinib"}, {"name": "A", "drug": "evobrutinib"}]}, r"arms\[1\]\.name"),
    ({"arms": [{"name": "a"}]}, r"arms\[0\]\.drug"),
    ({"arms": [{"name": "a", "kind": "anti_inflammatory", "drug": "evobrutinib"}]}, r"arms\[0\]\.drug"),
    ({"arms": [{"name": "a", "drug": "tolebrutinib", "dose_mg": -1.0}]}, r"arms\[0\]\.dose_mg"),
    ({"arms": []}, "arms"),
    ({"population.inclusion.edss_min": 7.0}, r"population\.inclusion\.edss_min"),
    ({"population.phenotype": "CIS"}, r"population\.phenotype"),
    ({"population.natural_history.location_shares": [1.0, 1.0]}, r"population\.natural_history\.location_shares"),
    ({"follow_up.kind": "event_driven"}, r"follow_up\.target_events"),
    ({"model.geometry.width": 4.0}, r"model\.geometry"),
    ({"model.btk.cns_occupancy": 0.5}, r"model\.btk\.cns_occupancy"),
    ({"model.microglia.activation_rate": -1.0}, r"model\.microglia\.activation_rate"),
    ({"visits.edss_every": 0.5}, r"visits\.edss_every"),
    ({"randomisation.block_size": 4}, r"randomisation\.block_size"),
    ({"lesion_library.radii": [0.6, 9.0]}, r"lesion_library\.radii"),
    ({"lesion_library.model": "sphere"}, r"lesion_library\.model = 'sphere' is not allowed: one of 'radial', 'sec"),
    ({"population.natural_history.lesion_age_max": -1.0}, r"population\.natural_history\.lesion_age_max"),
])
def test_bad_designs_are_refused_naming_the_key(changes, key):
    with pytest.raises(ConfigError, match=key):
        d = design(**changes)
        from rimmodel.patients.library import SectionLibrary
        from rimmodel.patients.draws import DefaultParameters

        SectionLibrary(d.lesion_library, d.model, DefaultParameters(), d.horizon, "unused.h5")


# -- populations and processes -------------------------------------------------------------------
def test_patients_are_reproducible_by_seed_and_match_their_sources():
    history, inclusion = NaturalHistory(), InclusionCriteria()
    patients = [draw_patient(i, history, inclusion, 0.3, 1, seed=3, replicate=0) for i in range(3000)]
    again = draw_patient(17, history, inclusion, 0.3, 1, seed=3, replicate=0)
    assert np.array_equal(again.lesion_volume, patients[17].lesion_volume) and again.age == patients[17].age
    assert not np.array_equal(draw_patient(17, history, inclusion, 0.3, 1, seed=4, replicate=0).lesion_volume,
                              again.lesion_volume)
    counts = np.array([p.lesion_volume.size for p in patients])
    with_rim = np.mean([p.lesion_rim.any() for p in patients])
    assert abs(counts.mean() - 24.5) < 1.0                      # Calvi et al. 2023: 1492 / 61
    assert abs(with_rim - 0.55) < 0.04                           # 56 % with >= 1 PRL (Calvi 2023)
    assert abs(np.mean([p.follicle_area > 0 for p in patients]) - 0.41) < 0.03   # Magliozzi 2007
    shares = np.bincount(np.concatenate([p.lesion_location for p in patients]), minlength=3) / counts.sum()
    assert np.allclose(shares, [0.53, 0.20, 0.27], atol=0.02)
    ages = np.concatenate([p.lesion_age for p in patients])
    assert ages.size == counts.sum() and 0.0 <= ages.min() and ages.max() <= 10.0   # uniform on [0, lesion_age_max]
    assert abs(ages.mean() - 5.0) < 0.1
    young = draw_patient(17, NaturalHistory(lesion_age_max=0.0), inclusion, 0.3, 1, seed=3, replicate=0)
    assert np.array_equal(young.lesion_volume, again.lesion_volume) and not young.lesion_age.any()  # drawn last


def test_screening_applies_the_inclusion_criteria():
    inclusion = InclusionCriteria(edss_min=3.0, edss_max=6.5, age_min=18.0, age_max=60.0)
    patients = [draw_patient(i, NaturalHistory(), inclusion, 0.3, 1, seed=1, replicate=0) for i in range(400)]
    assert all(3.0 <= p.screening_edss <= 6.5 and 18.0 <= p.age <= 60.0 for p in patients)
    with pytest.raises(ConfigError, match="population.inclusion"):
        draw_patient(0, NaturalHistory(age_mean=30.0, age_sd=1.0), InclusionCriteria(age_min=70.0, age_max=80.0),
                     0.3, 1, seed=1, replicate=0)


def test_randomisation_keeps_the_allocation_in_every_block():
    d = design(**{"design.patients": 301})
    arms = randomise(d, 0)
    assert arms.size == 301 and np.array_equal(arms, randomise(d, 0)) and not np.array_equal(arms, randomise(d, 1))
    block = 2 * 3
    for start in range(0, 300 - block, block):
        assert np.bincount(arms[start:start + block], minlength=3).tolist() == [2, 2, 2]


def test_occupancy_course_from_a_regimen_and_as_a_model_input():
    course = OccupancyCourse.from_regimen(TreatmentParameters(drug="tolebrutinib", dose_mg=60.0, interval_h=24.0), 3.0)
    assert abs(course.level(1.0)[0] - 0.98) <= 0.01          # docs/btk.md: CNS 0.978 after a year
    late = OccupancyCourse.from_regimen(TreatmentParameters(drug="tolebrutinib", dose_mg=60.0, interval_h=24.0,
                                                            start=1.0), 3.0)
    assert late.level(0.5) == (0.0, 0.0) and late.tail(1.5) == course.tail(1.5)
    from rimmodel.config import config_from_dict
    from rimmodel.pharmacology import occupancy_course

    seen = occupancy_course(config_from_dict({"btk": late.btk_table()}))
    assert seen.cns(0.5) == 0.0 and seen.cns(2.0) == late.level(2.0)[0]


# -- analysis on data with known effects ---------------------------------------------------------
def test_cox_and_negative_binomial_recover_known_effects():
    rng = np.random.default_rng(5)
    treated = np.repeat([0.0, 1.0], 1500)
    time = rng.exponential(1.0 / np.where(treated == 1, 0.1, 0.2))
    hr = cox_hazard_ratio(np.minimum(time, 3.0), time < 3.0, treated)
    assert hr.low < 0.5 < hr.high and hr.high - hr.low < 0.25
    activity = rng.gamma(0.8, 1.0 / 0.8, treated.size)
    years = rng.uniform(1.0, 3.0, treated.size)
    counts = rng.poisson(activity * years * np.where(treated == 1, 0.6, 1.0) * 2.0)
    ratio = rate_ratio(counts, years, treated)
    assert ratio.low < 0.6 < ratio.high and not ratio.note
    assert rate_ratio(np.zeros(3000), years, treated).missing


def test_parameter_draws_from_a_table(tmp_path):
    (tmp_path / "draws.csv").write_text("r_m,axons.microglial_damage_rate\n2.0,0.08\n2.4,0.1\n2.2,0.09\n")
    draws = load_draws("draws.csv", tmp_path, keep=2)
    assert len(draws) == 2 and draws.overrides(1) == {"microglia.activation_rate": 2.2,
                                                      "axons.microglial_damage_rate": 0.09}
    (tmp_path / "bad.csv").write_text("r_m\n-3.0\n")
    with pytest.raises(ConfigError, match="microglia.activation_rate"):
        read_csv_draws(tmp_path / "bad.csv")
    with pytest.raises(ConfigError, match="parameters.draws"):
        load_draws("../draws.csv", tmp_path)
    with pytest.raises(ConfigError, match="set by the trial"):
        DrawsTable({"geometry.width": np.array([5.0])}, "table")


def test_posterior_draws_from_an_inference_data_file(tmp_path):
    xarray = pytest.importorskip("xarray")
    values = np.array([[2.0, 2.1, 2.2], [2.3, 2.4, 2.5]])       # 2 chains x 3 draws
    xarray.Dataset({"r_m": (("chain", "draw"), values)}).to_netcdf(tmp_path / "posterior.nc", group="posterior")
    draws = load_draws("posterior.nc", tmp_path, keep=100)
    assert len(draws) == 6 and draws.overrides(4) == {"microglia.activation_rate": 2.4}


def test_parameter_draws_go_to_patients_or_to_whole_trials(comm):
    from rimmodel.patients.simulate import arm_plans, simulate_cohort

    trial = design(**{"design.patients": 60})
    plans = arm_plans(trial, 4.0)
    mixed = simulate_cohort(trial, plans, randomise(trial, 0), AnalyticLesions(), 3, 0, comm)
    assert {course.draw for course in mixed} == {0, 1, 2}
    trial.parameters.assignment = "per_replicate"
    chosen = [{c.draw for c in simulate_cohort(trial, plans, randomise(trial, r), AnalyticLesions(), 3, r, comm)}
              for r in range(6)]
    assert all(len(draws) == 1 for draws in chosen) and len(set.union(*chosen)) > 1


# -- the whole pipeline on the analytic library ---------------------------------------------------
@pytest.fixture(scope="module")
def trial_run():
    return run_design(design(), "unused.h5", MPI.COMM_WORLD, library=AnalyticLesions())


def test_a_trial_calibrates_placebo_and_predicts_effects(trial_run):
    assert abs(trial_run.calibration.achieved - 0.3) < 0.01
    first = trial_run.results[0]
    assert set(first.arms) == {"placebo", "btki", "comparator"} and sum(a.patients for a in first.arms.values()) == 240
    btki, comparator = first.comparisons["btki"], first.comparisons["comparator"]
    assert btki.hazard_ratio.value < 1.0                         # slower rims and quieter follicles
    assert comparator.t2_rate_ratio.value < 0.6                  # 0.3 x the new-lesion rate
    assert btki.t2_rate_ratio.low < 1.0 < btki.t2_rate_ratio.high or btki.t2_rate_ratio.value < 1.0
    means = trial_run.component_means
    assert means["btki"][1] < 0.3 * means["placebo"][1]          # cortex: E_B x 0.98 occupancy in the analytic law
    assert abs(means["comparator"][1] / means["placebo"][1] - 1) < 0.5   # no effect on follicles
    table = trial_run.first_table
    assert np.all(table.time <= table.follow_up + 1e-9) and np.all((table.time > 0) | ~table.event)


def test_ranks_give_the_same_trial_as_one_rank(trial_run, comm):
    alone = run_design(design(), "unused.h5", MPI.COMM_SELF, library=AnalyticLesions())
    for name in ("arm", "time", "event", "baseline_edss", "relapses", "new_or_enlarging", "sel"):
        assert np.array_equal(getattr(alone.first_table, name), getattr(trial_run.first_table, name)), name
    assert [r.comparisons["btki"].hazard_ratio.value for r in alone.results] == \
        [r.comparisons["btki"].hazard_ratio.value for r in trial_run.results]
    everywhere = comm.allgather(trial_run.results[1].comparisons["comparator"].hazard_ratio.value)
    assert len(set(everywhere)) == 1


def test_event_driven_trial_stops_at_its_target():
    run = run_design(design(**{"follow_up.kind": "event_driven", "follow_up.target_events": 40,
                               "follow_up.accrual": 1.0, "follow_up.years": 4.0, "design.replicates": 1}),
                     "unused.h5", MPI.COMM_WORLD, library=AnalyticLesions())
    table = run.first_table
    assert table.event.sum() == 40 and table.closeout < 5.0
    assert np.all(table.follow_up <= 4.0 + 1e-9)


def test_sensitivity_table_recalibrates_every_variant():
    run = run_design(design(**{"analysis.sensitivity": True, "design.replicates": 1, "design.patients": 150,
                               "calibration.patients": 200}), "unused.h5", MPI.COMM_WORLD, library=AnalyticLesions())
    labels = [row.label for row in run.sensitivity]
    assert labels[0] == "as designed" and len(labels) >= 12
    for row in run.sensitivity:
        assert abs(row.placebo_calibrated - 0.3) < 0.011, row.label
        assert np.isfinite(row.hazard_ratio["btki"][0])
    noisy = next(r for r in run.sensitivity if r.label == "measurement sd 0.5")
    assert noisy.scale < run.sensitivity[0].scale   # more noise: more false events, less damage needed
