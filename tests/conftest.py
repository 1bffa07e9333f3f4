"""Shared fixtures. Tests run unchanged serially and under ``mpirun -n 2``."""

import os
import sys

import pytest


def pytest_addoption(parser):
    parser.addoption("--rank-quiet", action="store_true",
                     help="under MPI, only rank 0 reports; other ranks log to $TMPDIR/pytest-rank-N.log")


def pytest_configure(config):
    if config.getoption("--rank-quiet"):
        from mpi4py import MPI

        rank = MPI.COMM_WORLD.rank
        if rank > 0:
            log = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"pytest-rank-{rank}.log")
            sys.stdout = open(log, "w", buffering=1)  # noqa: SIM115 - lives as long as the session


@pytest.fixture
def comm():
    from rimmodel.fem import MPI

    return MPI.COMM_WORLD


@pytest.fixture
def shared_tmp(tmp_path_factory, comm):
    """A temporary directory that is the same on every rank."""
    path = str(tmp_path_factory.mktemp("run")) if comm.rank == 0 else None
    from pathlib import Path

    return Path(comm.bcast(path, root=0))
