"""A real Slurm: a single-node cluster on localhost runs the hpc/ job-array study scripts."""

import importlib.util
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
    journals = list((out / "journal").glob("*.jsonl"))
    assert len(journals) == 6  # 3 tasks x 2 groups (mpirun -n 2, ranks_per_run = 1)
    results = read_results(out)
    assert results.completed.all(), results.reason
    collected = "".join(v for k, v in logs.items() if "collect" in k)
    assert "6 completed, 0 failed, 0 pending" in collected
    # the same samples run in this process give the same numbers
    reference = tmp_path / "reference"
    run_study(load_study(study), reference, progress=False)
    expected = read_results(reference)
    for name, values in expected.observables.items():
        np.testing.assert_allclose(results.observables[name], values, rtol=1e-10, atol=1e-12)
