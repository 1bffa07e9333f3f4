"""Radial lesion courses for virtual patients: cached batched runs equal direct runs, baseline lesion
ages read the right stretch of a course, and a trial on them is the same on one rank and on two."""

import numpy as np
import pytest

from rimmodel.config.treatment import TreatmentParameters
from rimmodel.fem import MPI
from rimmodel.patients.draws import DefaultParameters
from rimmodel.patients.library import LibrarySettings
from rimmodel.patients.occupancy import OccupancyCourse
from rimmodel.patients.radial import RadialTrajectories
from rimmodel.patients.trajectories import CortexClass, LesionClass, sphere_volume

SETTINGS = LibrarySettings(radial_radii=[0.6, 1.2], radial_mesh_size=0.1, radial_room=2.0, radii=[0.6],
                           mesh_size=0.3, width=6.0, white_matter_depth=5.0)
UNTREATED = OccupancyCourse()
TREATED = OccupancyCourse.from_regimen(TreatmentParameters(drug="tolebrutinib", dose_mg=60.0, interval_h=24.0), 2.0)
LESIONS = [LesionClass("white_matter", True, UNTREATED, 0), LesionClass("white_matter", False, UNTREATED, 0),
           LesionClass("white_matter", True, TREATED, 0), LesionClass("white_matter", True, TREATED.delayed(1.0), 0)]
# iron cleared at 0.2 /yr (as in docs/validation.md's tissue case): at the calibrated default (1.355 /yr)
# a two-year white-matter rim lesion never lays down an iron rim above threshold, so the iron series
# would be trivially zero in both the cached and the direct run
BASE_MODEL = {"iron": {"clearance_rate": 0.2}}
SERIES = {"edge_radius": "lesion_equivalent_radius", "volume": "lesion_size", "rim_volume": "rim_size",
          "axon_loss": "axon_loss", "tissue_loss": "tissue_loss", "iron_volume": "iron_rim_size"}


@pytest.fixture(scope="module")
def built(module_dir, comm):
    library = RadialTrajectories(SETTINGS, BASE_MODEL, DefaultParameters(), 2.0, module_dir / "radial.h5")
    return library, library.ensure(LESIONS, [], comm)


def test_radial_runs_are_batched_once_and_reused(built, module_dir, comm):
    library, report = built
    assert report.runs == 8 and report.by_model["radial"]["runs"] == 8 and report.by_model["section"]["runs"] == 0
    again = RadialTrajectories(SETTINGS, BASE_MODEL, DefaultParameters(), 2.0, module_dir / "radial.h5")
    assert again.ensure(LESIONS, [], comm).runs == 0
    assert not list(module_dir.glob("radial.h5.part-*"))


@pytest.mark.parametrize("lesion", [0, 1, 2])
def test_cached_courses_equal_a_direct_simulation(built, lesion, tmp_path):
    """At a grid radius a course is the run itself; the run equals a one-lesion Simulation (MUMPS, own run)."""
    from rimmodel.simulation import Simulation

    library, _ = built
    kind = LESIONS[lesion]
    config = library.lesion_config(kind, 1.2)
    record = Simulation(config, MPI.COMM_SELF).run(tmp_path / "direct")
    direct = {name: np.asarray(values) for name, values in record.series.items()}
    times = np.asarray(record.time)
    course = library.lesions(kind, direct["lesion_equivalent_radius"][:1], times)
    for name, series in SERIES.items():
        # equal up to where Newton stops (the batch's tolerance applies to the whole batch, docs/radial.md)
        assert getattr(course, name)[0] == pytest.approx(direct[series], rel=1e-6, abs=1e-8), name
    assert np.allclose(course.volume, sphere_volume(course.edge_radius))
    if kind.rim:
        assert course.edge_radius[0, -1] > course.edge_radius[0, 0] + 0.02 and course.iron_volume[0, -1] > 0
    else:
        assert np.all(course.rim_volume == 0)


def test_an_old_lesion_is_read_from_its_age_on(built):
    library, _ = built
    stored = library.grid(LESIONS[0])
    run = library.entry(library.key(library.lesion_config(LESIONS[0], 0.6)))
    at_age = int(np.searchsorted(run.time, 1.0))
    radius_then = run.series["lesion_equivalent_radius"][at_age]
    course = library.lesions(LESIONS[0], np.array([radius_then]), np.array([0.0, 0.5, 1.0]), age=1.0)
    assert course.edge_radius[0] == pytest.approx(run.series["lesion_equivalent_radius"][at_age::2], rel=1e-12)
    assert course.axon_loss[0] == pytest.approx(run.series["axon_loss"][at_age::2], rel=1e-12)
    assert stored.seed_radius(np.array([radius_then]), 1.0)[0] == pytest.approx(stored.radii[0], rel=1e-12)
    with pytest.raises(ValueError, match="stored for 0 to 2"):
        library.lesions(LESIONS[0], np.array([1.0]), np.array([0.0, 1.5]), age=1.0)


def test_a_treated_baseline_lesion_is_untreated_until_randomisation(built):
    """The course of a lesion 1 yr old at randomisation on the drug: the untreated run up to 1 yr, slower after."""
    library, _ = built
    untreated, delayed = (library.entry(library.key(library.lesion_config(kind, 1.2)))
                          for kind in (LESIONS[0], LESIONS[3]))
    before = untreated.time <= 1.0
    radius = {name: entry.series["lesion_equivalent_radius"] for name, entry in (("u", untreated), ("d", delayed))}
    assert radius["d"][before] == pytest.approx(radius["u"][before], rel=1e-6)
    assert radius["d"][-1] < radius["u"][-1] - 0.01


DESIGN = {"design": {"name": "radial ranks", "seed": 5, "patients": 60},
          "population": {"natural_history": {"location_shares": [1.0, 0.0, 0.0], "lesion_age_max": 1.0}},
          "arms": [{"name": "btki", "drug": "tolebrutinib", "dose_mg": 60.0, "interval_h": 24.0}],
          "follow_up": {"years": 1.0},
          "calibration": {"placebo_event_proportion": 0.2, "follow_up": 1.0, "patients": 100},
          "analysis": {"sensitivity": False},
          "lesion_library": {"radial_radii": [0.6, 1.2, 2.4], "radial_mesh_size": 0.2, "radial_room": 2.0,
                             "radii": [0.6], "mesh_size": 0.3, "width": 6.0, "white_matter_depth": 5.0,
                             "age_resolution": 0.5}}


def test_a_trial_on_radial_courses_is_the_same_on_one_rank_and_all(shared_dir, comm):
    from rimmodel.patients.design import design_from_dict
    from rimmodel.patients.run import run_design

    design = design_from_dict(DESIGN)
    everyone = run_design(design, shared_dir / "trial.h5", comm)
    assert everyone.library.by_model["radial"]["runs"] == 3 * 2 * 4   # radii x rim x (placebo, drug, 0.5 and 1 yr old)
    alone = run_design(design, shared_dir / "trial.h5", MPI.COMM_SELF)   # from the cache the ranks built
    assert alone.library.runs == 0
    for name in ("arm", "time", "event", "baseline_edss", "relapses", "new_or_enlarging", "sel"):
        assert np.array_equal(getattr(alone.first_table, name), getattr(everyone.first_table, name)), name
    assert alone.results[0].comparisons["btki"].hazard_ratio.value == \
        everyone.results[0].comparisons["btki"].hazard_ratio.value
