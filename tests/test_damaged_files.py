"""Damaged, truncated or foreign files, and an output path that is a file: one line naming it.

No traceback and no HDF5-DIAG dump (DOLFINx's own HDF5 prints one for every failed call)."""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import h5py
import pytest

from rimmodel.config import ConfigError, load_config
from rimmodel.geometry import build_domain, read_domain
from rimmodel.geometry.mesh_file import write_domain
from rimmodel.io.field_series import read_fields
from rimmodel.io.results import read_run
from rimmodel.io.unreadable import UnreadableFile
from rimmodel.study.results import read_results
from rimmodel.study.spec import load_study

REPO = Path(__file__).resolve().parents[1]
SMALL_RUN = REPO / "tests/data/small_run"
BIN = Path(sys.executable).parent


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _overwrite_dataset_bytes(path: Path, dataset: str) -> None:
    """Damage inside a dataset's data, where HDF5 itself notices nothing."""
    with h5py.File(path, "r") as h5:
        offset = h5[dataset].id.get_offset()
    data = bytearray(path.read_bytes())
    data[offset:offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))


def _damaged_copy(tmp_path: Path, name: str, damage) -> Path:
    run = tmp_path / "run"
    shutil.copytree(SMALL_RUN, run)
    damage(run / name)
    return run


@pytest.mark.parametrize("name, damage, read", [
    ("observables.h5", _truncate, read_run),
    ("observables.h5", lambda p: p.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 100), read_run),
    ("observables.h5", lambda p: p.write_text("not HDF5 at all"), read_run),
    ("fields.h5", _truncate, read_fields),
    ("fields.xdmf", lambda p: p.write_text(p.read_text()[:500]), read_fields),
    ("fields.xdmf", lambda p: p.write_text(p.read_text().replace('CollectionType="Temporal"', "")), read_fields),
])
def test_a_damaged_run_file_is_one_line_naming_it(tmp_path, name, damage, read):
    run = _damaged_copy(tmp_path, name, damage)
    with pytest.raises(UnreadableFile) as refused:
        read(run)
    message = str(refused.value)
    assert str(run / name) in message and "\n" not in message


def test_damaged_field_data_read_lazily_is_named(tmp_path):
    run = _damaged_copy(tmp_path, "fields.h5", lambda p: None)
    series = read_fields(run)
    _truncate(run / "fields.h5")
    with pytest.raises(UnreadableFile, match=str(run / "fields.h5")):
        series.values(series.names[0], 0)


def test_a_damaged_study_results_file_is_named(tmp_path):
    (tmp_path / "study.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x01" * 300)
    with pytest.raises(UnreadableFile, match=str(tmp_path / "study.h5")):
        read_results(tmp_path)


@pytest.fixture(scope="module")
def mesh_file(module_dir, comm):
    config = load_config(None, ["geometry.mesh_size=0.5"])
    path = module_dir / "section.xdmf"
    write_domain(build_domain(config.geometry, comm, config.lesion), path)
    return path


def _damaged_mesh(mesh_file: Path, shared_dir: Path, comm, damage) -> Path:
    path = shared_dir / mesh_file.name  # the XDMF names its .h5: a renamed pair is refused too
    if comm.rank == 0:
        shutil.copy(mesh_file, path)
        shutil.copy(mesh_file.with_suffix(".h5"), path.with_suffix(".h5"))
        damage(path)
    comm.Barrier()
    return path


@pytest.mark.parametrize("damage, rule", [
    (lambda p: _truncate(p.with_suffix(".h5")), "truncated"),
    (lambda p: _overwrite_dataset_bytes(p.with_suffix(".h5"), "Mesh/mesh/geometry"), "SHA-256 mismatch"),
    (lambda p: _overwrite_dataset_bytes(p.with_suffix(".h5"), "Mesh/mesh/topology"), "SHA-256 mismatch"),
    (lambda p: p.write_text(p.read_text()[:300]), "unreadable XDMF"),
    (lambda p: p.write_text(p.read_text().replace("section.h5:", "/etc/elsewhere.h5:")), "is not section.h5 beside it"),
])
def test_a_damaged_mesh_file_is_one_line_on_every_rank(mesh_file, shared_dir, comm, damage, rule):
    path = _damaged_mesh(mesh_file, shared_dir, comm, damage)
    with pytest.raises(ConfigError) as refused:
        read_domain(path, comm)
    message = str(refused.value)
    assert message.startswith(f"geometry.mesh_file = '{path}'") and rule in message and "\n" not in message


def test_an_intact_mesh_file_still_reads(mesh_file, comm):
    assert read_domain(mesh_file, comm).global_cell_count() > 0


def _rimmodel(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "rimmodel"), *args], check=False, capture_output=True, text=True, cwd=cwd,
                          env=os.environ | {"OMP_NUM_THREADS": "1"})


@pytest.mark.serial
def test_the_command_line_prints_one_line_without_hdf5_diagnostics(tmp_path, mesh_file):
    damaged = _damaged_mesh(mesh_file, tmp_path, type("Serial", (), {"rank": 0, "Barrier": lambda self: None})(),
                            lambda p: _truncate(p.with_suffix(".h5")))
    config = tmp_path / "from-file.toml"
    config.write_text(f'[geometry]\nkind = "file"\nmesh_file = "{damaged}"\n')
    for args in (["run", str(config), "--out", str(tmp_path / "out")],
                 ["mri", str(_damaged_copy(tmp_path, "fields.h5", _truncate))]):
        result = _rimmodel(*args)
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "HDF5-DIAG" not in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.serial
def test_an_output_path_that_is_a_file_is_refused_before_anything_runs(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    for command, out in ((["run", str(REPO / "experiments/reference_untreated.toml")], blocker),
                         (["study", str(REPO / "experiments/studies/ishigami.toml")], blocker / "below"),
                         (["trial", str(REPO / "experiments/trial_tolebrutinib_like.toml")], blocker)):
        result = _rimmodel(*command, "--out", str(out))
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert str(out) in result.stderr and "--out" in result.stderr
    assert blocker.read_text() == "keep me"


def test_a_config_or_study_that_is_not_utf8_names_the_file(tmp_path):
    config = tmp_path / "latin1.toml"
    config.write_bytes('[time]\nend = 1.0  # Lésion\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=f"{config}: not UTF-8 text"):
        load_config(config)
    study = tmp_path / "study.toml"
    study.write_bytes('[study]\nsampler = "latin"  # é\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=f"{study}: not a readable UTF-8 TOML file"):
        load_study(study)


def _missing_field_step(run: Path) -> None:
    """The XDMF names a dataset fields.h5 lacks (microglia at 0.5 yr): found only when the
    animation draws that frame, after the snapshots (0, 1, 2 yr) are drawn."""
    xdmf = run / "fields.xdmf"
    xdmf.write_text(xdmf.read_text().replace("/Function/microglia/0_5<", "/Function/microglia/gone<"))


@pytest.mark.parametrize("damage", [lambda run: _truncate(run / "observables.h5"), _missing_field_step],
                         ids=["observables-truncated", "field-step-missing"])
def test_compare_on_a_damaged_run_writes_nothing(tmp_path, comm, damage, capsys):
    """It left the snapshots it had drawn before reaching the damage."""
    if comm.rank > 0:  # drawing is serial by design
        return
    from rimmodel.cli import main

    good, damaged = tmp_path / "good", _damaged_copy(tmp_path, "fields.xdmf", lambda p: None)
    shutil.copytree(SMALL_RUN, good)
    damage(damaged)
    out = tmp_path / "comparison"
    out.mkdir()
    (out / "earlier.txt").write_text("an earlier comparison's file")
    assert main(["compare", str(good), str(damaged), "--out", str(out), "--layers", "microglia",
                 "--panel-size", "160", "128", "--gif"]) == 2
    refusal = capsys.readouterr().err.strip().splitlines()[-1]
    assert refusal.startswith(f"rimmodel: {damaged}/") and "unreadable" in refusal
    assert sorted(p.name for p in out.iterdir()) == ["earlier.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["comparison", "good", "run"]  # no scratch left


def _live_copy(tmp_path: Path) -> Path:
    """The stored run as a live one: status 'running', written by this (living) process."""
    run = tmp_path / "live"
    shutil.copytree(SMALL_RUN, run)
    (run / "status.json").write_text(json.dumps({"status": "running", "pid": os.getpid(),
                                                 "host": os.uname().nodename, "heartbeat_unix": time.time()}))
    return run


def _drop_step(run: Path, field: str, step: str) -> None:
    """fields.h5 without one dataset fields.xdmf lists: the XDMF is ahead of the data."""
    with h5py.File(run / "fields.h5", "r+") as h5:
        del h5[f"Function/{field}/{step}"]


def test_a_live_runs_half_written_step_is_left_out(tmp_path):
    run = _live_copy(tmp_path)
    _drop_step(run, "microglia", "2")
    series = read_fields(run)
    assert series.times.tolist() == [0.0, 0.5, 1.0, 1.5]
    assert series.values("microglia", 3).size == series.points.shape[0]


def test_a_finished_run_missing_a_step_is_damage_named_at_once(tmp_path):
    run = _damaged_copy(tmp_path, "fields.h5", lambda p: None)
    _drop_step(run, "microglia", "2")
    with pytest.raises(UnreadableFile, match=r"fields.h5: lacks /Function/microglia/2 at t = 2 yr"):
        read_fields(run)


def test_a_live_xdmf_caught_mid_rewrite_is_read_once_rewritten(tmp_path):
    run = _live_copy(tmp_path)
    whole = (run / "fields.xdmf").read_text()
    (run / "fields.xdmf").write_text(whole[:500])
    rewrite = threading.Timer(0.5, lambda: (run / "fields.xdmf").write_text(whole))
    rewrite.start()
    try:
        assert read_fields(run).times.size == 5
    finally:
        rewrite.cancel()


def test_a_live_run_whose_fields_stay_unreadable_says_it_is_still_writing(tmp_path, monkeypatch):
    from rimmodel.io import field_series

    monkeypatch.setattr(field_series, "LIVE_RETRY_S", 0.3)
    run = _live_copy(tmp_path)
    (run / "fields.xdmf").write_text((run / "fields.xdmf").read_text()[:500])
    with pytest.raises(UnreadableFile, match="is still writing its fields") as refused:
        read_fields(run)
    assert str(run / "fields.xdmf") in str(refused.value) and "\n" not in str(refused.value)
