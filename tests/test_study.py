"""Parameter studies: sampling, MPI groups, resumability, failures and sensitivity analysis."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from rimmodel.config import ConfigError
from rimmodel.study.analysis import analyze
from rimmodel.study.ishigami import analytical_indices
from rimmodel.study.journal import read_outcomes
from rimmodel.study.results import read_results
from rimmodel.study.runner import run_study
from rimmodel.study.spec import load_study

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

COARSE_STUDY = """
[study]
sampler = "saltelli"
samples = 4
seed = 3
observables = ["lesion_equivalent_radius", "rim_thickness"]
ranks_per_run = {ranks_per_run}

[model.geometry]
mesh_size = 0.4
[model.time]
end = {years}
output_interval = 0.5

[parameters."microglia.chemotactic_sensitivity"]
distribution = "uniform"
low = 0.0
high = 0.1

[parameters."btk.cns_occupancy"]
distribution = "discrete"
values = [0.0, 0.5, 0.9]
"""


def write_study(directory: Path, name: str, text: str, comm) -> Path:
    path = directory / name
    if comm.rank == 0:
        path.write_text(text)
    comm.Barrier()
    return path


def test_ishigami_sobol_indices_match_the_analytical_ones(shared_dir, comm):
    results = run_study(load_study(REPO / "experiments/studies/ishigami.toml"), shared_dir / "ishigami", comm,
                        progress=False)
    assert results.is_file()
    found = analyze(shared_dir / "ishigami")["indices"]
    exact = analytical_indices()
    for order in ("S1", "ST"):
        for j, name in enumerate(("x1", "x2", "x3")):
            # 5120 Saltelli runs: estimates within 0.05 and within their own 95% intervals (+ slack)
            error = abs(found[order][j] - exact[order][name])
            assert error < 0.05, (order, name, found[order][j], exact[order][name])
            assert error < 1.5 * found[f"{order}_conf"][j] + 0.01, (order, name)


def test_groups_of_one_and_of_all_ranks_give_the_same_observables(shared_dir, comm):
    runs = {}
    for ranks_per_run in sorted({1, comm.size}):
        path = write_study(shared_dir, f"coarse_{ranks_per_run}.toml",
                           COARSE_STUDY.format(ranks_per_run=ranks_per_run, years=1.0), comm)
        run_study(load_study(path), shared_dir / f"study_{ranks_per_run}", comm, progress=False)
        runs[ranks_per_run] = read_results(shared_dir / f"study_{ranks_per_run}")
    first, last = runs[1], runs[comm.size]
    assert first.completed.all() and last.completed.all()
    np.testing.assert_array_equal(first.values, last.values)
    for name, values in first.observables.items():
        # parallel LU sums in another order: equal to round-off, not bit for bit
        np.testing.assert_allclose(last.observables[name], values, rtol=1e-10, atol=1e-12)
    assert len(read_outcomes(shared_dir / f"study_{comm.size}")) == 16
    assert last.units == {"time": "yr", "lesion_equivalent_radius": "mm", "rim_thickness": "mm"}


def test_a_failing_sample_is_recorded_and_the_study_goes_on(shared_dir, comm):
    text = COARSE_STUDY.format(ranks_per_run=1, years=1.0).replace("[model.time]", "[model.time]\ndt_min = 0.01")
    text = text.replace('distribution = "uniform"\nlow = 0.0\nhigh = 0.1',
                        'distribution = "discrete"\nvalues = [0.05, 3.0]')  # 3.0 fails: negative density
    path = write_study(shared_dir, "failing.toml", text, comm)
    run_study(load_study(path), shared_dir / "failing", comm, progress=False)
    results = read_results(shared_dir / "failing")
    failed = results.status == "failed"
    assert failed.any() and results.completed.any() and (failed | results.completed).all()
    assert all("negative density" in reason for reason in results.reason[failed])
    assert np.isnan(results.observables["rim_thickness"][failed]).all()
    with pytest.raises(ValueError, match="need every sample"):
        analyze(shared_dir / "failing")


def test_bad_study_input_names_the_field_and_range(shared_dir, comm):
    good = COARSE_STUDY.format(ranks_per_run=1, years=1.0)
    cases = {
        "unknown key": (good.replace('"btk.cns_occupancy"', '"btk.occupancy"'), "btk.occupancy"),
        "outside range": (good.replace("high = 0.1", "high = 1e9"), "chemotactic_sensitivity"),
        "bad sampler": (good.replace('"saltelli"', '"sobol"'), "study.sampler"),
        "not a power of 2": (good.replace("samples = 4", "samples = 5"), "power of 2"),
        "bad observable": (good.replace('"rim_thickness"', '"rim"'), "study.observables"),
    }
    for label, (text, expected) in cases.items():
        path = write_study(shared_dir, "bad.toml", text, comm)
        with pytest.raises(ConfigError, match=expected.replace(".", r"\.")):
            load_study(path)
        comm.Barrier()


def test_a_study_directory_refuses_a_different_study(shared_dir, comm):
    first = write_study(shared_dir, "first.toml", COARSE_STUDY.format(ranks_per_run=1, years=0.5), comm)
    run_study(load_study(first), shared_dir / "claimed", comm, progress=False)
    before = (shared_dir / "claimed/study.h5").read_bytes()
    other = write_study(shared_dir, "other.toml", COARSE_STUDY.format(ranks_per_run=1, years=1.0), comm)
    with pytest.raises(ConfigError, match="different study"):
        run_study(load_study(other), shared_dir / "claimed", comm, progress=False)
    assert (shared_dir / "claimed/study.h5").read_bytes() == before


def _launch(study: Path, out: Path) -> subprocess.Popen:
    command = [str(BIN / "mpirun"), "-n", "2", str(BIN / "rimmodel"), "study", str(study), "--out", str(out),
               "--quiet"]
    return subprocess.Popen(command, cwd=out.parent, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=os.environ | {"OMP_NUM_THREADS": "1"})


def _journal_lines(out: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in (out / "journal").glob("*.jsonl"))


def _contents(path: Path) -> dict:
    """Every dataset and attribute of a results file except the timings (which vary run to run)."""
    found = {}
    with h5py.File(path, "r") as h5:
        h5.visititems(lambda name, item: found.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset)
                      and not name.startswith("timing") else None)
        found |= {f"@{k}": v for k, v in h5.attrs.items()}
    return found


@pytest.mark.serial
def test_a_killed_study_resumes_without_losing_or_repeating_a_sample(tmp_path):
    study = tmp_path / "study.toml"
    study.write_text(COARSE_STUDY.format(ranks_per_run=1, years=2.0))
    killed = tmp_path / "killed"
    process = _launch(study, killed)
    deadline = time.monotonic() + 300
    while _journal_lines(killed) < 4 if killed.exists() else True:
        assert process.poll() is None, process.stdout.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # as hard as a node failure: no handler runs
    process.wait()
    done_before = _journal_lines(killed)
    assert done_before < 16 and not (killed / "study.h5").exists()
    assert _launch(study, killed).wait() == 0
    assert _launch(study, tmp_path / "uninterrupted").wait() == 0
    assert _journal_lines(killed) == 16  # every sample exactly once across both sessions
    assert sorted(read_outcomes(killed)) == list(range(16))
    resumed, reference = _contents(killed / "study.h5"), _contents(tmp_path / "uninterrupted/study.h5")
    assert resumed.keys() == reference.keys()
    for name, value in reference.items():
        np.testing.assert_array_equal(resumed[name], value, err_msg=name)


ONE_SAMPLE_STUDY = """
[study]
sampler = "grid"
samples = 1
observables = ["lesion_equivalent_radius"]
ranks_per_run = 1

[model.geometry]
mesh_size = 0.4
[model.time]
end = 0.5
output_interval = 0.5

[parameters."btk.cns_occupancy"]
distribution = "discrete"
values = [0.5]
"""


@pytest.mark.serial
def test_a_study_with_a_group_that_gets_no_sample_finishes(tmp_path):
    """Two groups, one sample: the idle group must not leave the busy one waiting in PETSc's
    collective start of its event log (it did: the study hung in PetscLogHandlerCreate)."""
    study = tmp_path / "one.toml"
    study.write_text(ONE_SAMPLE_STUDY)
    process = _launch(study, tmp_path / "one")
    try:
        output, _ = process.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        pytest.fail("the study hung: one group had no sample")
    assert process.returncode == 0, output.decode()
    results = read_results(tmp_path / "one")
    assert results.completed.tolist() == [True]
    assert np.isfinite(results.observables["lesion_equivalent_radius"]).all()
