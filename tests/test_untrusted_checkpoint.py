"""A run directory from someone else: its checkpoint is data, never code, and a damaged one is one line."""

import json
import math
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rimmodel.config import ConfigError, config_to_toml, load_config
from rimmodel.io.checkpoint import Checkpoint, read_checkpoint, write_checkpoint
from rimmodel.io.record_json import record_from_json, record_to_json
from rimmodel.io.results import RunRecord

BIN = Path(sys.executable).parent


class _Payload:
    """Unpickling this runs ``os.system``: what a crafted checkpoint would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _record(points: int = 3) -> RunRecord:
    record = RunRecord(dimension=2, units={"lesion_size": "mm^2"}, provenance={"mpi_size": 1, "host": "x"},
                       config_toml="[time]\nend = 1.0\n", depth_bin_edges=np.linspace(0.0, 3.0, 4))
    for k in range(points):
        record.add_output(0.1 * k, {"lesion_size": 1.0 / 3.0 + k, "lesion_equivalent_radius": math.nan},
                          {"myelin_loss": np.array([0.1, 0.2 + k, 1e-300])}, (0.3, 2.0 / 7.0))
    record.steps.append({"time": 0.1, "dt": 0.1, "accepted": True, "reason": "ok", "newton_iterations": 3,
                         "linear_iterations": 3, "wall_time": 0.01})
    record.timing = {"total": 1.5}
    return record


def _assert_same_record(read: RunRecord, written: RunRecord) -> None:
    for name, value in vars(written).items():
        other = getattr(read, name)
        if name == "profiles":
            assert other.keys() == value.keys()
            for key in value:
                np.testing.assert_array_equal(np.array(other[key]), np.array(value[key]))
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(other, value)
        else:
            assert json.dumps(other) == json.dumps(value), name  # NaN-aware equality, bit for bit


def test_a_record_round_trips_exactly_through_json():
    record = _record()
    _assert_same_record(record_from_json(record_to_json(record)), record)


@pytest.mark.parametrize("change, field", [
    (lambda d: d.update(dimension="2"), "dimension"),
    (lambda d: d["series"].update(lesion_size=[1.0]), "series.lesion_size"),
    (lambda d: d["steps"][0].update(accepted=1), "steps[0].accepted"),
    (lambda d: d["steps"][0].pop("reason"), "steps[0]"),
    (lambda d: d.update(extra=1), "record"),
    (lambda d: d["profiles"].update(myelin_loss=[[0.1], "x", []]), "profiles.myelin_loss[1]"),
])
def test_a_record_of_the_wrong_shape_is_refused_naming_the_field(change, field):
    data = json.loads(record_to_json(_record()))
    change(data)
    with pytest.raises(ValueError, match=re.escape(f"field '{field}'")):
        record_from_json(json.dumps(data))


def _write_checkpoint(run: Path, comm) -> None:
    arrays = {"previous": np.arange(4.0) + comm.rank, "before_previous": np.arange(4.0)}
    write_checkpoint(run, comm, Checkpoint(2, 0.2, 0.1, 0.1, arrays, _record()))


def test_a_checkpoint_round_trips(shared_dir, comm):
    _write_checkpoint(shared_dir, comm)
    assert sorted(p.name for p in (shared_dir / "checkpoint").iterdir()) == sorted(
        ["latest.json", "2-record.json", *(f"2-rank-{r}.npz" for r in range(comm.size))])
    checkpoint = read_checkpoint(shared_dir, comm)
    assert (checkpoint.number, checkpoint.t, checkpoint.next_dt, checkpoint.previous_dt) == (2, 0.2, 0.1, 0.1)
    np.testing.assert_array_equal(checkpoint.arrays["previous"], np.arange(4.0) + comm.rank)
    _assert_same_record(checkpoint.record, _record())


def _damage(run: Path, kind: str, marker: Path) -> str:
    """Damage rank 0's part of checkpoint 2 one way; returns the file the error must name."""
    directory = run / "checkpoint"
    npz, record, latest = directory / "2-rank-0.npz", directory / "2-record.json", directory / "latest.json"
    if kind == "truncated arrays":
        npz.write_bytes(npz.read_bytes()[:100])
    elif kind == "pickled object array":
        np.savez(npz, previous=np.array([_Payload(marker)], dtype=object), before_previous=np.zeros(4))
    elif kind == "missing array":
        np.savez(npz, previous=np.zeros(4))
    elif kind == "not arrays":
        npz.write_bytes(pickle.dumps(_Payload(marker)))
    elif kind == "pickled record":
        record.write_bytes(pickle.dumps(_Payload(marker)))
    elif kind == "truncated record":
        record.write_text(record.read_text()[:50])
    elif kind == "old pickle record":
        record.unlink()
        (directory / "2-record.pkl").write_bytes(pickle.dumps(_Payload(marker)))
        return str(directory / "2-record.pkl")
    elif kind == "index pointing elsewhere":
        latest.write_text(json.dumps({"number": "../../../etc/passwd", "t": 0, "next_dt": 0.1,
                                      "previous_dt": None, "ranks": 1}))
        return str(latest)
    elif kind == "index not JSON":
        latest.write_bytes(b"\xff\xfe garbage")
        return str(latest)
    return str(npz if "arrays" in kind or "array" in kind else record)


DAMAGE = ["truncated arrays", "pickled object array", "missing array", "not arrays", "pickled record",
          "truncated record", "old pickle record", "index pointing elsewhere", "index not JSON"]


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_or_crafted_checkpoint_is_refused_in_one_line_on_every_rank(shared_dir, comm, kind):
    _write_checkpoint(shared_dir, comm)
    marker = shared_dir / "code-ran"
    named = _damage(shared_dir, kind, marker) if comm.rank == 0 else None
    named = comm.bcast(named, root=0)
    with pytest.raises(ConfigError) as refused:
        read_checkpoint(shared_dir, comm)
    message = str(refused.value)
    assert "\n" not in message and named in message
    assert not marker.exists()


@pytest.mark.serial
def test_resume_from_a_crafted_run_directory_runs_no_code(tmp_path):
    run, marker = tmp_path / "shared-by-a-colleague", tmp_path / "code-ran"
    run.mkdir()
    (run / "config.toml").write_text(config_to_toml(load_config(None, ["geometry.mesh_size=0.5"])))
    (run / "status.json").write_text(json.dumps({"status": "running"}))
    directory = run / "checkpoint"
    directory.mkdir()
    (directory / "latest.json").write_text(json.dumps({"number": 0, "t": 0.5, "next_dt": 0.1,
                                                       "previous_dt": 0.1, "ranks": 1}))
    np.savez(directory / "0-rank-0.npz", previous=np.array([_Payload(marker)], dtype=object),
             before_previous=np.zeros(3))
    (directory / "0-record.json").write_bytes(pickle.dumps(_Payload(marker)))
    resumed = subprocess.run([str(BIN / "rimmodel"), "run", "--resume", str(run)], check=False, capture_output=True, text=True,
                             env=os.environ | {"OMP_NUM_THREADS": "1"})
    assert resumed.returncode == 2, resumed.stderr
    assert len(resumed.stderr.strip().splitlines()) == 1 and "0-record.json" in resumed.stderr
    assert not marker.exists()
