"""Shared fixtures. Every test runs unchanged serially and under ``mpirun -n 2``.

Under MPI all ranks run the same tests in the same order (they are collective);
``shared_dir`` hands every rank rank 0's directory.
"""

import os
import sys
from pathlib import Path

import pytest

import rimmodel.fem  # noqa: F401  (h5py before dolfinx, mpi4py initialised)
from rimmodel.fem import MPI


def pytest_addoption(parser):
    parser.addoption("--rank-quiet", action="store_true",
                     help="under MPI, only rank 0 reports; other ranks log to $TMPDIR/pytest-rank-N.log")


def pytest_configure(config):
    world = MPI.COMM_WORLD
    if world.size > 1:
        # one basetemp per rank: concurrent ranks must not race on pytest's numbered dirs
        root = world.bcast(f"/tmp/rimmodel-pytest-{os.getpid()}" if world.rank == 0 else None, root=0)
        config.option.basetemp = f"{root}/rank-{world.rank}"
        os.makedirs(config.option.basetemp, exist_ok=True)
    if config.getoption("--rank-quiet") and world.rank > 0:
        log = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"pytest-rank-{world.rank}.log")
        sys.stdout = open(log, "w", buffering=1)  # noqa: SIM115 - lives as long as the session


def pytest_runtest_logreport(report):
    """Under MPI a failure on one rank would leave the others waiting in a collective: abort loudly."""
    world = MPI.COMM_WORLD
    if world.size > 1 and report.failed:
        sys.__stderr__.write(f"\n[rank {world.rank}] FAILED {report.nodeid} ({report.when})\n"
                             f"{report.longreprtext}\n")
        sys.__stderr__.flush()
        world.Abort(1)


def pytest_collection_modifyitems(config, items):
    if MPI.COMM_WORLD.size > 1:
        skip = pytest.mark.skip(reason="serial-only test (launches its own MPI jobs or is rank-local)")
        for item in items:
            if "serial" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def comm():
    return MPI.COMM_WORLD


@pytest.fixture
def shared_dir(tmp_path_factory, comm) -> Path:
    """A fresh temporary directory, the same one on every rank."""
    path = str(tmp_path_factory.mktemp("shared")) if comm.rank == 0 else None
    return Path(comm.bcast(path, root=0))


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory, comm) -> Path:
    path = str(tmp_path_factory.mktemp("module")) if comm.rank == 0 else None
    return Path(comm.bcast(path, root=0))
