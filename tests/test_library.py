"""Lesion libraries: build over a box with the batched radial model, store, query, refuse what they cannot answer."""

import numpy as np
import pytest

from rimmodel.config import ConfigError
from rimmodel.library.build import build_library, check_library_study
from rimmodel.library.emulator import LesionLibrary
from rimmodel.study.spec import load_study, model_config_for

LIBRARY = """
[study]
sampler = "latin"
samples = 12
seed = 5

[model.geometry]
kind = "spherical_lesion"
outer_radius = 4.0
mesh_size = 0.2

[model.time]
end = 2.0
dt = 0.5
output_interval = 0.5

[parameters."microglia.activation_rate"]
distribution = "uniform"
low = 2.0
high = 2.4

[parameters."lesion.radius"]
distribution = "loguniform"
low = 0.8
high = 1.2
"""


@pytest.fixture(scope="module")
def library_file(module_dir, comm):
    spec = module_dir / "library.toml"
    if comm.rank == 0:
        spec.write_text(LIBRARY)
    comm.Barrier()
    study = load_study(spec)
    return study, build_library(study, module_dir / "library.h5", comm, batch_size=5)


def test_library_stores_the_radial_trajectories(library_file, comm):
    from rimmodel.batch.runner import RadialBatch
    from rimmodel.fem import MPI
    from rimmodel.study.sampling import sample_values, unit_design

    study, path = library_file
    library = LesionLibrary(path)
    assert library.parameters.shape == (12, 2) and library.failed == 0
    assert library.times.tolist() == [0.0, 0.5, 1.0, 1.5, 2.0]
    samples = sample_values(study, unit_design(study))
    fresh = RadialBatch([model_config_for(study, samples[3])], MPI.COMM_SELF).run()
    for name, values in fresh.series.items():
        assert library.series[name][3] == pytest.approx(values[0], rel=1e-6, abs=1e-9), name
    assert library.units["lesion_size"] == "mm^3" and library.version == 2
    # the trajectories: edge radius, volume, rim, iron, tissue and axon loss against time
    for name in ("lesion_equivalent_radius", "lesion_size", "rim_thickness", "iron_total", "tissue_loss",
                 "axon_loss"):
        assert np.all(np.isfinite(library.series[name])), name
    assert library.units["iron_total"] == "mm^3" and library.units["tissue_loss"] == "mm^3"
    assert np.all(library.series["iron_total"][:, -1] > library.series["iron_total"][:, 0])  # rims lay down iron
    assert np.all(library.series["tissue_loss"][:, -1] > 0.0)


def test_query_reproduces_samples_and_interpolates_between_them(library_file):
    study, path = library_file
    library = LesionLibrary(path)
    at_samples = library.query([dict(zip(library.names, row)) for row in library.parameters])
    for name, values in library.series.items():
        assert at_samples[name] == pytest.approx(values, rel=1e-6, abs=1e-9), name
    between = library.query({"microglia.activation_rate": 2.2, "lesion.radius": 1.0})["lesion_equivalent_radius"][0]
    radii = library.series["lesion_equivalent_radius"]
    assert np.all(between >= radii.min(axis=0) - 1e-9) and np.all(between <= radii.max(axis=0) + 1e-9)
    assert between[-1] > between[0]  # the lesion grows


def test_query_refuses_points_outside_the_box(library_file):
    _, path = library_file
    library = LesionLibrary(path)
    with pytest.raises(ConfigError, match=r"microglia.activation_rate = 3 is outside the library: allowed \[2, 2.4\]"):
        library.query({"microglia.activation_rate": 3.0, "lesion.radius": 1.0})
    with pytest.raises(ConfigError, match=r"missing \['lesion.radius'\]"):
        library.query({"microglia.activation_rate": 2.2})


def test_a_library_needs_the_radial_model_and_a_box(tmp_path):
    section = tmp_path / "section.toml"
    section.write_text(LIBRARY.replace('kind = "spherical_lesion"', 'kind = "cortical_section"')
                       .replace("outer_radius = 4.0\n", ""))
    with pytest.raises(ConfigError, match="a lesion library runs the radial model"):
        check_library_study(load_study(section))
    normal = tmp_path / "normal.toml"
    normal.write_text(LIBRARY.replace('distribution = "loguniform"\nlow = 0.8\nhigh = 1.2',
                                      'distribution = "normal"\nmean = 1.0\nstd = 0.1'))
    with pytest.raises(ConfigError, match="interpolates over a box"):
        check_library_study(load_study(normal))


def _copy_as_version(path, scratch, version: int, drop=()):
    """A copy of the library file claiming ``version``, without the series ``drop``."""
    import shutil

    import h5py

    copy = scratch / f"library_v{version}.h5"
    shutil.copyfile(path, copy)
    with h5py.File(copy, "a") as h5:
        h5.attrs["version"] = version
        for name in drop:
            del h5["series"][name]
    return copy


def test_an_older_library_is_read_and_its_missing_series_named(library_file, tmp_path):
    _, path = library_file
    old = LesionLibrary(_copy_as_version(path, tmp_path, 1, drop=("tissue_loss", "iron_total")))
    point = {"microglia.activation_rate": 2.2, "lesion.radius": 1.0}
    assert old.version == 1
    assert old.query(point, ["lesion_equivalent_radius"])["lesion_equivalent_radius"].shape == (1, 5)
    with pytest.raises(ConfigError, match=r"format version 1\) has no series 'iron_total'.*rebuild it"):
        old.query(point, ["iron_total"])
    with pytest.raises(ValueError, match="format version 3 was written by a newer rimmodel"):
        LesionLibrary(_copy_as_version(path, tmp_path, 3))


@pytest.mark.serial
def test_library_query_command(library_file, capsys, tmp_path):
    from rimmodel.cli import main

    _, path = library_file
    point = ["--set", "microglia.activation_rate=2.2", "--set", "lesion.radius=1.0"]
    assert main(["library", "query", str(path), *point, "--series", "lesion_equivalent_radius"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "time_yr,lesion_equivalent_radius_mm" and len(lines) == 6
    assert main(["library", "query", str(path), *point]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == ("time_yr,lesion_equivalent_radius_mm,lesion_size_mm^3,rim_thickness_mm,iron_total_mm^3,"
                        "tissue_loss_mm^3,axon_loss_mm^3")
    assert all(len(line.split(",")) == 7 for line in lines[1:])
    old = _copy_as_version(path, tmp_path, 1, drop=("tissue_loss", "iron_total"))
    assert main(["library", "query", str(old), *point]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == "time_yr,lesion_equivalent_radius_mm,lesion_size_mm^3,rim_thickness_mm," \
                                           "axon_loss_mm^3"
    assert "(format version 1) has no iron_total, tissue_loss; rebuild it" in captured.err


def test_a_rank_that_fails_stops_every_rank_and_nothing_is_written(library_file, shared_dir, comm, monkeypatch):
    """An error on one rank must not leave the others waiting at the gather (they would hang)."""
    from rimmodel.library import build

    study, _ = library_file
    run_chunk = build._ChunkRunner.__call__

    def failing_on_the_last_rank(self, indices):
        if comm.rank == comm.size - 1:
            raise KeyError("injected")
        return run_chunk(self, indices)

    monkeypatch.setattr(build._ChunkRunner, "__call__", failing_on_the_last_rank)
    out = shared_dir / "failed.h5"
    with pytest.raises(RuntimeError, match=rf"not written: rank {comm.size - 1}: KeyError: 'injected'"):
        build_library(study, out, comm, batch_size=5)
    assert not out.exists()
