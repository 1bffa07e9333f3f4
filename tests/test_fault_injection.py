"""Fault injection: signals at random points, a live reader, a second writer, a full disk.

After each fault the run (or study) is continued and compared with one that was never
disturbed: bit for bit serially; under ``mpirun -n 2`` to the run-to-run round-off of
parallel MUMPS for a run (a study's samples run in groups of one rank: bit for bit).
The random points come from a seeded generator; the seed and the points are in every
assertion message. Tests that start MPI jobs themselves are ``serial``.
"""

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from rimmodel.config import load_config
from rimmodel.io.field_series import read_fields
from rimmodel.io.results import read_run, read_status, read_status_or_raise, stale_reason
from rimmodel.io.run_lock import RunDirectoryInUse, RunLock
from rimmodel.io.run_output import OutputFailure, RunOutput
from rimmodel.io.unreadable import UnreadableFile
from rimmodel.simulation import Simulation
from rimmodel.study.journal import read_outcomes
from rimmodel.study.runner import run_study
from rimmodel.study.spec import load_study

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONFIG = REPO / "experiments/reference_untreated.toml"
# 32 checkpoints: on an idle machine a checkpoint takes ~50 ms, and each signal stage can overshoot its
# threshold by a few before the run stops; the three stages need room before the run ends
RUN = ("geometry.mesh_size=0.4", "time.end=4", "time.output_interval=0.125", "output.progress=false")
DISK = ("geometry.mesh_size=0.4", "time.end=2", "time.output_interval=0.05", "output.progress=false")
# the children must set HDF5's file locking themselves (importing rimmodel here set it for this process)
ENV = {k: v for k, v in os.environ.items() if k != "HDF5_USE_FILE_LOCKING"} | {"OMP_NUM_THREADS": "1"}
SEED = int(os.environ.get("RIMMODEL_FAULT_SEED", "20261130"))
STUDY = """
[study]
sampler = "latin"
samples = 8
seed = 11
observables = ["lesion_equivalent_radius", "rim_thickness"]
keep_runs = false
[model.geometry]
mesh_size = 0.4
[model.time]
end = 1.0
output_interval = 0.5
[parameters."microglia.chemotactic_sensitivity"]
distribution = "uniform"
low = 0.0
high = 0.1
[parameters."btk.cns_occupancy"]
distribution = "uniform"
low = 0.0
high = 0.9
"""


def _settings(values) -> list[str]:
    return [item for value in values for item in ("--set", value)]


def _command(ranks: int, *args: str) -> list[str]:
    launcher = [str(BIN / "mpirun"), "-n", str(ranks)] if ranks > 1 else []
    return [*launcher, str(BIN / "rimmodel"), *args]


def _start(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=ENV, cwd=REPO)


def _run(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, env=ENV, cwd=REPO, timeout=600)


def _wait_until(condition, process: subprocess.Popen, what: str, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"ended before {what}: {process.communicate()}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _tree(pid: int) -> list[int]:
    """pid and its descendants (hydra's proxy and ranks start their own sessions: a process
    group signal would miss them)."""
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [pid, *(p for child in children.split() for p in _tree(int(child)))]


def _deliver(process: subprocess.Popen, signal_number: int) -> None:
    """SIGINT as Ctrl-C reaches a job: to mpirun (or the serial process), which passes it on.
    SIGTERM as Slurm sends it: to every process. SIGKILL as a node failure: to every process."""
    targets = [process.pid] if signal_number == signal.SIGINT else _tree(process.pid)
    for pid in targets:
        try:
            os.kill(pid, signal_number)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 30
    while signal_number == signal.SIGKILL and any(map(_running, targets)):  # SIGKILL lands asynchronously
        assert time.monotonic() < deadline, "killed processes still run"
        time.sleep(0.01)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _checkpoint_number(run: Path) -> int:
    try:
        return json.loads((run / "checkpoint/latest.json").read_text())["number"]
    except (OSError, ValueError, KeyError):
        return -1


def _status(run: Path) -> dict:
    return json.loads((run / "status.json").read_text())


def _observables(run: Path) -> dict:
    found = {}
    with h5py.File(run / "observables.h5", "r") as h5:
        h5.visititems(lambda name, item: found.__setitem__(name, item[()])
                      if isinstance(item, h5py.Dataset) and name != "solver/wall_time"
                      and not name.startswith("timing/") else None)
    return found


def _assert_same(found: dict, expected: dict, exact: bool, context: str) -> None:
    assert found.keys() == expected.keys(), context
    for key, value in expected.items():
        if exact or not np.issubdtype(np.asarray(value).dtype, np.floating):
            np.testing.assert_array_equal(found[key], value, err_msg=f"{key}; {context}")
        else:  # parallel MUMPS: two undisturbed 2-rank runs differ by ~1e-15
            np.testing.assert_allclose(found[key], value, rtol=1e-12, atol=1e-13, err_msg=f"{key}; {context}")


def _assert_same_run(run: Path, reference: Path, exact: bool, context: str) -> None:
    """Observables whole; fields at every time the run's field file holds (a kill during a field
    write moves the damaged file aside and a resumed run starts a new one)."""
    _assert_same(_observables(run), _observables(reference), exact, context)
    fields, expected = read_fields(run), read_fields(reference)
    assert len(fields.times) >= 1 and set(fields.times) <= set(expected.times), context
    for index, t in enumerate(fields.times):
        for name in expected.names:
            _assert_same({name: fields.values(name, index)}, {name: expected.values(name, expected.index_at(t))},
                         exact, f"field {name} at t = {t}; {context}")


@pytest.fixture(scope="module")
def serial_reference(tmp_path_factory) -> Path:
    """The undisturbed run, in this process: the same code on one rank, so bit-identical."""
    path = tmp_path_factory.mktemp("reference") / "run"
    Simulation(load_config(CONFIG, RUN)).run(path)
    return path


def _interrupted_at_random_points(ranks: int, run: Path, rng: random.Random) -> list:
    """SIGINT, SIGTERM, SIGKILL, each after a random checkpoint plus a random delay; returns the
    points chosen."""
    command, points, threshold = _command(ranks, "run", str(CONFIG), *_settings(RUN), "--out", str(run)), [], 0
    for signal_number in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        threshold += rng.randint(1, 2)
        delay = rng.uniform(0.0, 0.1)
        points.append((signal.Signals(signal_number).name, threshold, round(delay, 3)))
        process = _start(command)
        start = max(_checkpoint_number(run), 0)
        _wait_until(lambda: _checkpoint_number(run) >= max(threshold, start + 1), process, f"checkpoint {threshold}")
        time.sleep(delay)
        _deliver(process, signal_number)
        _, err = process.communicate(timeout=120)
        context = f"seed {SEED}, points {points}, ranks {ranks}: {err[-2000:]}"
        status = _status(run)
        if signal_number == signal.SIGKILL:
            assert status["status"] == "running" and read_run(run).stale, (status, context)
        else:
            resume = f"continue with: {'mpirun -n 2 ' if ranks > 1 else ''}rimmodel run --resume {run}"
            assert process.returncode == 128 + signal_number, context
            assert status["status"] == "interrupted" and resume in status["reason"] and resume in err, context
            assert "PETSC ERROR" not in err and "Traceback" not in err, context
            assert not list(run.rglob("*.partial*")), context
        command = _command(ranks, "run", "--resume", str(run))
    return points


@pytest.mark.serial
@pytest.mark.parametrize("ranks", [1, 2])
def test_signals_at_random_points_then_resume_matches_the_undisturbed_run(tmp_path, ranks, serial_reference):
    rng = random.Random(SEED + ranks)
    run = tmp_path / "run"
    points = _interrupted_at_random_points(ranks, run, rng)
    finished = _run(_command(ranks, "run", "--resume", str(run)))
    context = f"seed {SEED}, points {points}: {finished.stdout}{finished.stderr}"
    assert finished.returncode == 0 and _status(run)["status"] == "completed", context
    assert "taking it over" in finished.stdout and "says 'running'" in finished.stdout, context  # after SIGKILL
    assert not (run / "run.lock").exists() and not list(run.rglob("*.partial*")), context
    reference = serial_reference
    if ranks > 1:
        reference = tmp_path / "reference"
        assert _run(_command(ranks, "run", str(CONFIG), *_settings(RUN), "--out", str(reference))).returncode == 0
    _assert_same_run(run, reference, exact=ranks == 1, context=context)


def _journal(study_dir: Path) -> list[dict]:
    return [json.loads(line) for path in sorted((study_dir / "journal").glob("*.jsonl"))
            for line in path.read_text().splitlines() if line.strip()]


def _results(study_dir: Path) -> dict:
    found = {}
    with h5py.File(study_dir / "study.h5", "r") as h5:
        h5.visititems(lambda name, item: found.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset)
                      and not name.startswith("timing") else None)
    return found


@pytest.fixture(scope="module")
def study_reference(tmp_path_factory) -> Path:
    """The undisturbed study, in this process (its samples run on one rank, as in groups of one)."""
    directory = tmp_path_factory.mktemp("study_reference")
    (directory / "study.toml").write_text(STUDY)
    run_study(load_study(directory / "study.toml"), directory / "study", progress=False)
    return directory / "study"


@pytest.mark.serial
@pytest.mark.parametrize("ranks", [1, 2])
def test_a_study_stopped_by_signals_at_random_points_finishes_as_if_undisturbed(tmp_path, ranks, study_reference):
    rng = random.Random(SEED + 10 + ranks)
    study_file = tmp_path / "study.toml"
    study_file.write_text(STUDY)
    study = tmp_path / "study"
    command = _command(ranks, "study", str(study_file), "--out", str(study), "--quiet")
    points, threshold = [], 0
    for signal_number in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        threshold += rng.randint(1, 2)
        delay = rng.uniform(0.0, 0.3)
        points.append((signal.Signals(signal_number).name, threshold, round(delay, 3)))
        process = _start(command)
        start = len(_journal(study)) if study.exists() else 0
        _wait_until(lambda: study.exists() and len(_journal(study)) >= max(threshold, start + 1), process,
                    f"{threshold} journaled samples")
        time.sleep(delay)
        _deliver(process, signal_number)
        _, err = process.communicate(timeout=120)
        context = f"seed {SEED}, points {points}, ranks {ranks}: {err[-2000:]}"
        journal = _journal(study)
        assert all(line["status"] == "completed" for line in journal), context  # never "failed" for a signal
        assert len(journal) == len({line["index"] for line in journal}) < 8, context
        if signal_number != signal.SIGKILL:
            assert process.returncode == 128 + signal_number and "continue with:" in err, context
            assert "Traceback" not in err and "PETSC ERROR" not in err, context
    finished = _run(command)
    context = f"seed {SEED}, points {points}: {finished.stdout}{finished.stderr}"
    assert finished.returncode == 0 and "8 completed, 0 failed, 0 pending" in finished.stdout, context
    assert sorted(line["index"] for line in _journal(study)) == list(range(8)), context  # each exactly once
    assert not list((study / "scratch").glob("*")), context
    _assert_same(_results(study), _results(study_reference), exact=True, context=context)
    assert sorted(read_outcomes(study)) == list(range(8))


READER = """
import json, sys, time, h5py
path, until = sys.argv[1], sys.argv[2]
reads, errors = 0, []
deadline = time.monotonic() + 300
while time.monotonic() < deadline:
    try:
        with h5py.File(path, "r") as h5:   # HDF5's default: a shared lock on the file while open
            names = []
            h5.visit(names.append)
            last = sorted(n for n in names if n.startswith("Function/") and isinstance(h5[n], h5py.Dataset))
            if last:
                h5[last[-1]][()]
            reads += 1
            time.sleep(2.0)                 # hold it, as a viewer does
    except Exception as error:
        errors.append(f"{type(error).__name__}: {error}")
        time.sleep(0.05)
    try:
        if json.load(open(until))["status"] != "running":
            break
    except (OSError, ValueError):
        pass
print(json.dumps({"reads": reads, "errors": errors}))
"""


@pytest.mark.serial
def test_a_live_reader_holding_fields_h5_does_not_disturb_the_run(tmp_path, serial_reference):
    run = tmp_path / "run"
    writer = _start(_command(1, "run", str(CONFIG), *_settings(RUN), "--out", str(run)))
    _wait_until(lambda: (run / "fields.h5").exists(), writer, "fields.h5")
    reader = subprocess.run([sys.executable, "-c", READER, str(run / "fields.h5"), str(run / "status.json")],
                            capture_output=True, text=True, env=ENV, timeout=600)
    out, err = writer.communicate(timeout=300)
    seen = json.loads(reader.stdout)
    context = f"writer: {err[-2000:]}; reader: {seen}"
    assert writer.returncode == 0 and _status(run)["status"] == "completed", context
    assert seen["reads"] >= 1, context
    _assert_same_run(run, serial_reference, exact=True, context=context)


@pytest.mark.serial
def test_a_second_run_on_the_same_directory_is_refused_while_the_first_runs(tmp_path, serial_reference):
    run = tmp_path / "run"
    first = _start(_command(1, "run", str(CONFIG), *_settings(RUN), "--out", str(run)))
    _wait_until(lambda: _checkpoint_number(run) >= 1, first, "the first run's checkpoint 1")
    os.kill(first.pid, signal.SIGSTOP)  # paused, not gone: it must still be running when the others start
    try:
        second = _run(_command(1, "run", str(CONFIG), *_settings(RUN), "--set", "microglia.activation_rate=3.0",
                               "--overwrite", "--out", str(run)))
        resume = _run(_command(1, "run", "--resume", str(run)))
        assert read_run(run).stale == ""
    finally:
        os.kill(first.pid, signal.SIGCONT)
    out, err = first.communicate(timeout=300)
    for refused in (second, resume):
        lines = refused.stderr.strip().splitlines()
        assert refused.returncode == 2 and len(lines) == 1, refused.stderr
        assert f"in use by another rimmodel run (pid {first.pid} on host" in lines[0], lines
    assert first.returncode == 0, err
    assert (run / "config.toml").read_text() == (serial_reference / "config.toml").read_text()
    _assert_same_run(run, serial_reference, exact=True, context=err)


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs (needs root: mount permission); skipped where it cannot be mounted."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2M", "tmpfs", str(mount_point)],
                             capture_output=True, text=True) if shutil.which("mount") else None
    if mounted is None or mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip() if mounted else 'no mount'}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(disk: Path, leave: int) -> Path:
    filler = disk / "filler"
    filler.write_bytes(b"\0" * max(shutil.disk_usage(disk).free - leave, 0))
    return filler


@pytest.mark.serial
def test_a_full_disk_stops_the_run_as_failed_and_it_resumes_once_there_is_room(small_disk, tmp_path):
    run, reference = small_disk / "run", tmp_path / "reference"
    filler = _fill(small_disk, 700 * 1024)  # room for the mesh and ~15 of the 41 outputs
    failed = _run(_command(1, "run", str(CONFIG), *_settings(DISK), "--out", str(run)))
    status = _status(run)
    assert failed.returncode == 1 and status["status"] == "failed", failed.stderr
    assert "no room for the next output" in status["reason"] and "--resume" in status["reason"], status
    assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
    assert 0 < status["t_reached_yr"] < 2 and not list(run.rglob("*.partial*"))
    filler.unlink()
    assert _run(_command(1, "run", "--resume", str(run))).returncode == 0
    Simulation(load_config(CONFIG, DISK)).run(reference)
    _assert_same_run(run, reference, exact=True, context=str(status))


@pytest.mark.serial
def test_a_write_that_fails_for_want_of_space_leaves_no_partial_files(small_disk, tmp_path, monkeypatch):
    """Past the space check (a quota, another process filling the disk): the record and the
    checkpoint fail with ENOSPC, and the run still ends as ``failed`` with nothing half-written.
    (Field output is off: HDF5 itself aborts the process when the disk fills mid-write.)"""
    monkeypatch.setattr(RunOutput, "_check_space", lambda self: None)
    settings = (*DISK, "output.fields=false")
    simulation = Simulation(load_config(CONFIG, settings))
    run = small_disk / "run"
    filler = _fill(small_disk, 150 * 1024)
    with pytest.raises(OutputFailure, match="No space left on device"):
        simulation.run(run)
    assert _status(run)["status"] == "failed" and not list(run.rglob("*.partial*"))
    filler.unlink()
    simulation.run(run, resume=True)
    Simulation(load_config(CONFIG, settings)).run(tmp_path / "reference")
    _assert_same(_observables(run), _observables(tmp_path / "reference"), exact=True, context="ENOSPC")


def test_a_held_run_lock_refuses_and_a_dead_holders_lock_is_taken_over(tmp_path):
    held = RunLock(tmp_path)
    with pytest.raises(RunDirectoryInUse, match=f"pid {os.getpid()}"):
        RunLock(tmp_path)  # a second open file description: flock refuses it, even in one process
    held.release()
    assert not (tmp_path / "run.lock").exists()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = {"pid": int(gone.stdout), "host": os.uname().nodename, "since": "earlier"}
    (tmp_path / "run.lock").write_text(json.dumps(dead))  # what a killed run leaves
    taken = RunLock(tmp_path)
    assert taken.taken_over["pid"] == dead["pid"]
    taken.release()


def test_without_file_locks_the_lock_file_names_who_may_take_over(tmp_path, monkeypatch):
    """File systems without flock (ENOLCK): the recorded holder decides."""
    import errno

    import rimmodel.io.run_lock as run_lock

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(run_lock.fcntl, "flock", no_locks)
    held = RunLock(tmp_path)
    with pytest.raises(RunDirectoryInUse, match=f"pid {os.getpid()}"):
        RunLock(tmp_path)  # this process is alive
    held.release()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / "run.lock").write_text(json.dumps({"pid": int(gone.stdout), "host": os.uname().nodename}))
    RunLock(tmp_path).release()  # a dead holder on this host: taken over
    (tmp_path / "run.lock").write_text(json.dumps({"pid": 1, "host": "another-node"}))
    with pytest.raises(RunDirectoryInUse, match="another-node"):
        RunLock(tmp_path)  # cannot be checked from here: refused


def test_a_running_status_whose_process_is_gone_is_reported_stale():
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    status = {"status": "running", "pid": int(gone.stdout), "host": os.uname().nodename, "heartbeat": "then",
              "heartbeat_unix": time.time()}
    assert "has ended" in stale_reason(status)
    assert stale_reason(status | {"pid": os.getpid()}) == ""  # alive
    far = status | {"host": "another-node", "heartbeat_unix": time.time() - 3600, "stale_after_s": 600}
    assert "no heartbeat" in stale_reason(far)
    assert stale_reason(far | {"heartbeat_unix": time.time()}) == ""  # another host, recent heartbeat
    assert stale_reason(status | {"status": "completed"}) == ""


def test_a_status_with_foreign_values_is_judged_without_raising(tmp_path):
    far = {"status": "running", "pid": 1, "host": "another-node", "heartbeat": "then"}
    for heartbeat in ("soon", None, [1], float("nan"), True):
        assert stale_reason(far | {"heartbeat_unix": heartbeat}) == ""  # cannot tell: not called stale
    assert stale_reason(far | {"heartbeat_unix": time.time() - 3600, "stale_after_s": "long"}) == ""
    here = far | {"host": os.uname().nodename, "pid": 10**30}
    assert "has ended" in stale_reason(here)  # no process has such a pid
    (tmp_path / "status.json").write_bytes(b"\xff\xfe")
    with pytest.raises(UnreadableFile, match="status.json: unreadable run status"):
        read_status_or_raise(tmp_path)
    (tmp_path / "status.json").write_text("[1, 2]")
    with pytest.raises(UnreadableFile, match="not an object"):
        read_status_or_raise(tmp_path)
    assert read_status(tmp_path) == {}
