"""The lesion library: section runs built once over MPI groups, cached by their config, queried in 3D terms."""

import h5py
import numpy as np
import pytest

from rimmodel.config.treatment import TreatmentParameters
from rimmodel.fem import MPI
from rimmodel.patients.draws import DefaultParameters
from rimmodel.patients.cache import merge_parts, write_entry
from rimmodel.patients.library import LibrarySettings, SectionLibrary
from rimmodel.patients.occupancy import OccupancyCourse
from rimmodel.patients.trajectories import CortexClass, LesionClass, sphere_volume

SETTINGS = LibrarySettings(radii=[0.6], mesh_size=0.3, width=6.0, white_matter_depth=5.0)
UNTREATED = OccupancyCourse()
TREATED = OccupancyCourse.from_regimen(TreatmentParameters(drug="tolebrutinib", dose_mg=60.0, interval_h=24.0), 1.0)
LESIONS = [LesionClass("white_matter", rim, course, 0) for rim in (True, False) for course in (UNTREATED, TREATED)]
CORTICES = [CortexClass(UNTREATED, 0), CortexClass(TREATED, 0)]


@pytest.fixture(scope="module")
def built(module_dir, comm):
    library = SectionLibrary(SETTINGS, {}, DefaultParameters(), 1.0, module_dir / "library.h5")
    return library, library.ensure(LESIONS, CORTICES, comm)


def test_the_library_is_built_once_and_reused(built, module_dir, comm):
    library, report = built
    assert report.runs == 6 and report.cached == 0
    again = SectionLibrary(SETTINGS, {}, DefaultParameters(), 1.0, module_dir / "library.h5")
    assert again.ensure(LESIONS, CORTICES, comm).runs == 0
    assert not list(module_dir.glob("library.h5.part-*")) and not (module_dir / "library.h5.scratch").exists()
    changed = SectionLibrary(SETTINGS, {"microglia": {"activation_rate": 2.0}}, DefaultParameters(), 1.0,
                             module_dir / "library.h5")
    assert changed.key(changed.lesion_config(LESIONS[0], 0.6)) != library.key(library.lesion_config(LESIONS[0], 0.6))


def test_courses_in_3d_terms(built):
    library, _ = built
    years = np.linspace(0.0, 1.0, 5)
    radii = np.array([0.6, 2.0])
    rim, treated = (library.lesions(LESIONS[i], radii, years) for i in (0, 1))
    inactive = library.lesions(LESIONS[2], radii, years)
    advance = rim.edge_radius[:, -1] - rim.edge_radius[:, 0]
    assert np.all(advance > 0.02) and np.allclose(advance[0], advance[1])   # a front: advance held beyond the grid
    assert np.all(treated.edge_radius[:, -1] < rim.edge_radius[:, -1])
    assert np.allclose(inactive.edge_radius, radii[:, None], atol=1e-3)
    assert np.allclose(rim.volume, sphere_volume(rim.edge_radius))
    assert np.all(np.diff(rim.axon_loss, axis=1) > 0) and np.all(rim.rim_volume[:, -1] > 0)
    assert np.all(inactive.rim_volume == 0)
    cortex, quiet = (library.cortex(kind, years) for kind in CORTICES)
    assert cortex.axon_loss[0] == 0 and cortex.axon_loss[-1] > 0
    assert quiet.axon_loss[-1] < 0.5 * cortex.axon_loss[-1]                # E_B = 0.9 at occupancy 0.98
    with pytest.raises(ValueError, match="stored for 0 to 1"):
        library.lesions(LESIONS[0], radii, np.array([2.0]))


def test_a_cached_entry_equals_a_fresh_run_on_one_rank(built, tmp_path):
    from rimmodel.simulation import Simulation

    library, _ = built
    config = library.lesion_config(LESIONS[0], 0.6)
    record = Simulation(config, MPI.COMM_SELF).run(tmp_path / "fresh")
    entry = library.entry(library.key(config))
    for name in ("lesion_equivalent_radius", "axon_loss", "rim_size", "iron_rim_size"):
        assert np.allclose(entry.series[name], record.series[name], rtol=1e-10, atol=1e-12), name


@pytest.mark.serial
def test_part_files_of_a_killed_build_are_merged_and_broken_ones_set_aside(tmp_path, built):
    import os
    import socket
    import subprocess

    library, _ = built
    with h5py.File(library.path, "r") as cache:
        key = next(iter(cache["entries"]))

    class Record:
        dimension, time, series = 2, [0.0, 1.0], {"lesion_size": [1.0, 2.0]}

    dead = subprocess.Popen(["true"])  # a writer that has exited: its pid is free
    dead.wait()
    host, target = socket.gethostname(), tmp_path / "cache.h5"
    write_entry(tmp_path / f"cache.h5.part-{host}-{dead.pid}-g0000", key, Record(),
                library.lesion_config(LESIONS[0], 0.6), {})
    (tmp_path / f"cache.h5.part-{host}-{dead.pid}-g0001").write_bytes(b"cut short by a kill")
    live = tmp_path / f"cache.h5.part-{host}-{os.getpid()}-g0000"       # another build, still writing
    write_entry(live, "other", Record(), library.lesion_config(LESIONS[1], 0.6), {})
    with pytest.warns(UserWarning, match="unreadable part file"):
        assert merge_parts(target) == 1
    with h5py.File(target, "r") as cache:
        assert list(cache["entries"]) == [key]
    assert live.exists() and len(list(tmp_path.glob("*.broken-*"))) == 1
    assert merge_parts(target, own=(live.name.split(".part-")[1],)) == 1 and not live.exists()


DESIGN = """
[design]
name = "command-line test"
seed = 3
patients = 120
[population.natural_history]
location_shares = [1.0, 0.0, 0.0]
lesion_age_max = 0.0
[[arms]]
name = "tolebrutinib-60mg"
drug = "tolebrutinib"
dose_mg = 60.0
interval_h = 24.0
[follow_up]
years = 1.0
[calibration]
placebo_event_proportion = 0.15
follow_up = 1.0
patients = 200
[lesion_library]
model = "section"
radii = [0.6]
mesh_size = 0.3
width = 6.0
white_matter_depth = 5.0
"""


@pytest.mark.serial
def test_rimmodel_trial_runs_a_design_on_a_shared_cache(built, tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    library, _ = built
    (tmp_path / "design.toml").write_text(DESIGN)
    command = [str(Path(sys.executable).parent / "rimmodel"), "trial", str(tmp_path / "design.toml"),
               "--out", str(tmp_path / "out"), "--cache", str(library.path)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "hazard ratio" in done.stdout
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["library"]["runs"] == 0 and results["library"]["cached"] == 6   # nothing solved again
    for name in ("report.md", "patients.csv", "sensitivity.csv", "cumulative_incidence.png", "design.toml"):
        assert (tmp_path / "out" / name).exists(), name
    (tmp_path / "other.toml").write_text(DESIGN.replace("seed = 3", "seed = 4"))
    refused = subprocess.run([*command[:2], str(tmp_path / "other.toml"), *command[3:]], capture_output=True, text=True)
    assert refused.returncode == 2 and "different trial design" in refused.stderr
