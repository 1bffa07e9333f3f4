"""A real Slurm: a single-node cluster on localhost runs the hpc/ job-array study scripts."""

import importlib.util
import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from rimmodel.study.results import read_results
from rimmodel.study.runner import run_study
from rimmodel.study.spec import load_study

REPO = Path(__file__).resolve().parents[1]
TINY_STUDY = """
[study]
sampler = "latin"
samples = 6
seed = 5
observables = ["lesion_equivalent_radius", "rim_thickness"]
keep_runs = false   # samples run in scratch directories, which concurrent array tasks must not share
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


def _local_slurm():
    spec = importlib.util.spec_from_file_location("local_slurm", REPO / "hpc/local_slurm.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    local = _local_slurm()
    if os.geteuid() != 0:
        pytest.skip(f"a local Slurm cluster needs root: {local.missing_requirements()}")
    try:
        local.install()
    except subprocess.CalledProcessError as error:  # no package mirror reachable: nothing to test with
        pytest.skip(f"could not apt-get install slurm-wlm and munge: {error.stderr or error}")
    root = tmp_path_factory.mktemp("slurm")
    env = local.start(root, cpus=2)
    try:
        yield env
    finally:
        local.stop(root)


def _wait_for_jobs(env: dict, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while subprocess.run(["squeue", "-h"], env=env, capture_output=True, text=True).stdout.strip():
        assert time.monotonic() < deadline, "Slurm jobs did not finish in time"
        time.sleep(1.0)


@pytest.mark.serial
def test_a_job_array_study_and_its_collection_step_under_slurm(slurm, tmp_path):
    study = tmp_path / "tiny.toml"
    study.write_text(TINY_STUDY)
    out = tmp_path / "study"
    submitted = subprocess.run([str(REPO / "hpc/submit_study_array.sh"), str(study), str(out), "3"], env=slurm,
                               capture_output=True, text=True, check=True)
    assert "collection job" in submitted.stdout
    _wait_for_jobs(slurm)
    logs = {p.name: p.read_text() for p in out.glob("slurm-*.out")}
    assert len(logs) == 4, logs  # three array tasks and the collection job
    # 3 tasks x 2 groups (mpirun -n 2, ranks_per_run = 1): groups take samples as they free up, so a
    # fast group may run both of its task's samples and the other none (and then writes no journal)
    journals = list((out / "journal").glob("*.jsonl"))
    assert 3 <= len(journals) <= 6, journals  # at least one group per task ran
    results = read_results(out)
    assert results.completed.all(), results.reason
    collected = "".join(v for k, v in logs.items() if "collect" in k)
    assert "6 completed, 0 failed, 0 pending" in collected
    # every array task finished its own samples: none crashed (they once shared a scratch run and
    # failed on its HDF5 lock), so the collection step had nothing left to run
    for name, log in logs.items():
        assert "Traceback" not in log and "Error" not in log, (name, log)
    assert "study: sample" not in collected, collected
    assert not list((out / "scratch").glob("*")), "scratch runs are removed when their task ends"
    # the same samples run in this process give the same numbers
    reference = tmp_path / "reference"
    run_study(load_study(study), reference, progress=False)
    expected = read_results(reference)
    for name, values in expected.observables.items():
        np.testing.assert_allclose(results.observables[name], values, rtol=1e-10, atol=1e-12)


RUN_SETTINGS = ["--set", "geometry.mesh_size=0.4", "--set", "time.end=3", "--set", "time.output_interval=0.25",
                "--set", "output.progress=false"]


def _checkpoint_time(run: Path) -> float:
    try:
        return json.loads((run / "checkpoint/latest.json").read_text())["t"]
    except (OSError, ValueError, KeyError):
        return -1.0


@pytest.mark.serial
@pytest.mark.parametrize("whom", ["batch", "all"])
def test_slurm_signals_stop_a_run_cleanly_and_it_resumes(slurm, tmp_path, whom):
    """``batch``: the signal hpc/*.sbatch ask for a minute before the time limit (--signal=B:TERM@60),
    which only the batch shell receives and passes on; ``all``: what Slurm sends every process of the
    job at the limit itself (scancel without --batch does the same)."""
    run = tmp_path / "run"
    submit = ["sbatch", "--parsable", f"--output={tmp_path}/slurm-%j.out", str(REPO / "hpc/run_single.sbatch")]
    job = subprocess.run([*submit, str(REPO / "experiments/reference_untreated.toml"), *RUN_SETTINGS, "--out",
                          str(run)], env=slurm, cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    deadline = time.monotonic() + 300
    while _checkpoint_time(run) < 0.5:
        assert time.monotonic() < deadline, "the Slurm job did not reach its second output"
        time.sleep(0.05)
    scancel = ["scancel", "--signal=TERM", *(["--batch"] if whom == "batch" else ["--full"]), job]
    subprocess.run(scancel, env=slurm, check=True)
    _wait_for_jobs(slurm)
    log = (tmp_path / f"slurm-{job}.out").read_text()
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "interrupted", (status, log)
    assert "PETSC ERROR" not in log and f"continue with: mpirun -n 2 rimmodel run --resume {run}" in log, log
    subprocess.run([*submit, "--resume", str(run)], env=slurm, cwd=REPO, check=True, capture_output=True)
    _wait_for_jobs(slurm)
    assert json.loads((run / "status.json").read_text())["status"] == "completed"
