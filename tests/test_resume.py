"""A run killed part-way continues from its last checkpoint with ``rimmodel run --resume``."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SETTINGS = ["--set", "geometry.mesh_size=0.3", "--set", "time.end=3", "--set", "output.progress=false"]


def _rimmodel(ranks: int, *args: str) -> list[str]:
    launcher = [str(BIN / "mpirun"), "-n", str(ranks)] if ranks > 1 else []
    return [*launcher, str(BIN / "rimmodel"), *args]


def _checkpoint_number(run: Path) -> int:
    try:
        return json.loads((run / "checkpoint/latest.json").read_text())["number"]
    except (OSError, json.JSONDecodeError):
        return -1


def _kill_after_checkpoint(command: list[str], run: Path, number: int) -> None:
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=os.environ | {"OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 300
    while _checkpoint_number(run) < number:
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)  # no handler runs, files may be open
    process.wait()


def _datasets(path: Path) -> dict:
    found = {}
    with h5py.File(path, "r") as h5:
        h5.visititems(lambda name, item: found.__setitem__(name, item[()])
                      if isinstance(item, h5py.Dataset) and name != "solver/wall_time"
                      and not name.startswith("timing/") else None)
    return found


@pytest.mark.serial
@pytest.mark.parametrize("ranks", [1, 2])
def test_a_killed_run_resumes_to_the_uninterrupted_result(tmp_path, ranks):
    config = str(REPO / "experiments/reference_untreated.toml")
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    _kill_after_checkpoint(_rimmodel(ranks, "run", config, *SETTINGS, "--out", str(killed)), killed, 3)
    assert json.loads((killed / "status.json").read_text())["status"] == "running"
    subprocess.run(_rimmodel(ranks, "run", "--resume", str(killed)), check=True, capture_output=True)
    subprocess.run(_rimmodel(ranks, "run", config, *SETTINGS, "--out", str(reference)), check=True,
                   capture_output=True)
    assert json.loads((killed / "status.json").read_text())["status"] == "completed"
    for name in ("observables.h5", "fields.h5"):
        resumed, uninterrupted = _datasets(killed / name), _datasets(reference / name)
        assert resumed.keys() == uninterrupted.keys()
        for key, value in uninterrupted.items():
            # serially the solver is deterministic: bit for bit
            if ranks == 1 or not np.issubdtype(np.asarray(value).dtype, np.floating):
                np.testing.assert_array_equal(resumed[key], value, err_msg=key)
            else:  # parallel MUMPS differs between two uninterrupted runs by ~1e-15 (measured)
                np.testing.assert_allclose(resumed[key], value, rtol=1e-12, atol=1e-13, err_msg=key)


@pytest.mark.serial
def test_resume_refuses_a_completed_run_and_a_run_without_checkpoint(tmp_path):
    run = tmp_path / "done"
    config = str(REPO / "experiments/reference_untreated.toml")
    subprocess.run(_rimmodel(1, "run", config, *SETTINGS[:2], "--set", "time.end=0.5", "--out", str(run)),
                   check=True, capture_output=True)
    before = (run / "observables.h5").read_bytes()
    again = subprocess.run(_rimmodel(1, "run", "--resume", str(run)), capture_output=True, text=True)
    assert again.returncode == 2 and "already completed" in again.stderr
    assert (run / "observables.h5").read_bytes() == before
    missing = subprocess.run(_rimmodel(1, "run", "--resume", str(tmp_path / "nothing")), capture_output=True,
                             text=True)
    assert missing.returncode == 2 and "config" in missing.stderr


def _stopped_by_sigterm(ranks: int, run: Path) -> None:
    """A run stopped cleanly after its first checkpoint: status 'interrupted', resumable."""
    config = str(REPO / "experiments/reference_untreated.toml")
    command = _rimmodel(ranks, "run", config, "--set", "geometry.mesh_size=0.4", "--set", "time.end=1.5",
                        "--set", "output.progress=false", "--out", str(run))
    process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=os.environ | {"OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 300
    while _checkpoint_number(run) < 0:
        assert process.poll() is None, "the run ended before it could be stopped"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(timeout=300) == 128 + signal.SIGTERM


@pytest.mark.serial
@pytest.mark.parametrize("damage", [b"\xff\xfe{\"status\": \"runn",  # not UTF-8, cut short
                                    b'{"status": "running", "pid": 1, "host": "elsewhere", "heartbeat_unix": "soon"}'],
                         ids=["not-utf8-json", "foreign-values"])
def test_resume_with_a_damaged_status_file_names_it_and_continues_on_every_rank(tmp_path, damage):
    """status.json is judged on one rank: a value that raised there left the other rank waiting."""
    run = tmp_path / "run"
    _stopped_by_sigterm(2, run)
    (run / "status.json").write_bytes(damage)
    resumed = subprocess.Popen(_rimmodel(2, "run", "--resume", str(run)), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = resumed.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(resumed.pid, signal.SIGKILL)  # mpirun and both ranks
        resumed.wait()
        pytest.fail("--resume hung on a damaged status.json")
    assert resumed.returncode == 0, output
    notes = [line for line in output.splitlines() if "status.json" in line or "says 'running'" in line]
    assert len(notes) == 1 and "continuing from its checkpoint" in notes[0], output
    if damage.startswith(b"\xff"):
        assert str(run / "status.json") in notes[0]
    assert json.loads((run / "status.json").read_text())["status"] == "completed"
