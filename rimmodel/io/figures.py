"""PNG figures for the generated reports (docs/verification.md, docs/validation.md), off-screen."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import numpy as np


def save_panels(path: Path, panels, width: float = 4.6, height: float = 3.6) -> None:
    """One row of axes, each drawn by a callable ``draw(ax)``; written as PNG."""
    import matplotlib

    matplotlib.use("Agg")  # reports are written on clusters and in CI: never open a window
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(width * len(panels), height), constrained_layout=True)
    for ax, draw in zip(np.atleast_1d(axes), panels):
        draw(ax)
        ax.grid(alpha=0.3)
    fig.savefig(path, dpi=110)
    plt.close(fig)


@contextlib.contextmanager
def report_workspace(path: Path, comm):
    """``(figures, scratch)`` for a generated report at ``path``: the figures directory beside it
    (made by rank 0) and a scratch directory shared by every rank, removed afterwards. Collective."""
    figures = Path(path).parent / "figures"
    if comm.rank == 0:
        figures.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        yield figures, Path(comm.bcast(scratch if comm.rank == 0 else None, root=0))
        comm.barrier()  # every rank is done with the scratch runs before rank 0 removes them
