"""Where a result came from: versions, commit, machine, MPI size."""

from __future__ import annotations

import datetime
import platform
import subprocess
from pathlib import Path

import rimmodel


def git_commit() -> str:
    """The commit of the rimmodel source tree, with ``-dirty`` if it has local changes."""
    source = Path(rimmodel.__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def provenance(comm) -> dict:
    """Call on one rank (it runs git) and broadcast."""
    from rimmodel.fem import PETSc, dolfinx

    return {
        "rimmodel_version": rimmodel.__version__,
        "git_commit": git_commit(),
        "dolfinx_version": dolfinx.__version__,
        "petsc_version": ".".join(str(v) for v in PETSc.Sys.getVersion()),
        "python_version": platform.python_version(),
        "hostname": platform.node(),
        "mpi_size": comm.size,
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
