"""Observables do not depend on the number of ranks (to 1e-8 relative)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rimmodel.cli import main
from rimmodel.io.results import read_run

CONFIG = """
[geometry]
mesh_size = 0.2
[time]
end = 3.0
output_interval = 0.5
[output]
progress = false
"""


def assert_same_observables(serial, parallel, rtol: float = 1e-8) -> None:
    assert np.array_equal(serial.time, parallel.time)
    for name, values in serial.observables.items():
        scale = np.max(np.abs(values))
        difference = np.max(np.abs(values - parallel.observables[name]))
        assert difference <= rtol * max(scale, 1e-300), (name, difference, scale)
    for name, values in serial.profiles.items():
        assert np.allclose(values, parallel.profiles[name], rtol=rtol, atol=rtol * np.nanmax(np.abs(values)),
                           equal_nan=True), name


@pytest.mark.serial
def test_one_two_and_three_ranks_agree(tmp_path):
    config = tmp_path / "small.toml"
    config.write_text(CONFIG)
    assert main(["run", str(config), "--out", str(tmp_path / "ranks-1")]) == 0
    mpirun = Path(sys.executable).parent / "mpirun"
    for ranks in (2, 3):  # 3 ranks on 2 cores: oversubscribed, slower, still exact
        subprocess.run([str(mpirun), "-n", str(ranks), sys.executable, "-m", "rimmodel", "run", str(config),
                        "--out", str(tmp_path / f"ranks-{ranks}")], check=True, timeout=600)
    serial = read_run(tmp_path / "ranks-1")
    assert serial.status == "completed" and serial.provenance["mpi_size"] == 1
    for ranks in (2, 3):
        parallel = read_run(tmp_path / f"ranks-{ranks}")
        assert parallel.status == "completed" and parallel.provenance["mpi_size"] == ranks
        assert_same_observables(serial, parallel)
