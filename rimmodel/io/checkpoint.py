"""Checkpoints: everything needed to continue a run bit-identically after it was stopped.

Written at every output time: each rank saves its part of the BDF history
(u^n, u^{n-1}, their last step) as ``checkpoint/<k>-rank-<r>.npz``; then rank 0
commits checkpoint k by atomically replacing ``checkpoint/latest.json`` and
removes the previous set. A kill at any moment leaves the last committed
checkpoint intact. A run resumes on the same number of ranks (DOLFINx
partitions a mesh identically for a given rank count, so local arrays line up).
"""

from __future__ import annotations

import json
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rimmodel.config import ConfigError

CHECKPOINT_DIR = "checkpoint"
LATEST = "latest.json"


@dataclass
class Checkpoint:
    number: int
    t: float              # yr, an output time
    next_dt: float        # yr, the step the time loop tries next
    previous_dt: float | None
    arrays: dict          # "previous", "before_previous": this rank's local values
    record: object        # the RunRecord up to t (identical on all ranks)


def write_checkpoint(run_dir: Path, comm, checkpoint: Checkpoint) -> None:
    """Collective."""
    directory = Path(run_dir) / CHECKPOINT_DIR
    if comm.rank == 0:
        directory.mkdir(exist_ok=True)
    comm.Barrier()
    _atomic_save(directory / f"{checkpoint.number}-rank-{comm.rank}.npz", checkpoint.arrays)
    if comm.rank == 0:
        with open(directory / f"{checkpoint.number}-record.pkl.partial", "wb") as stream:
            pickle.dump(checkpoint.record, stream)
        os.replace(directory / f"{checkpoint.number}-record.pkl.partial", directory / f"{checkpoint.number}-record.pkl")
    comm.Barrier()  # every rank's part is on disk before the checkpoint is committed
    if comm.rank == 0:
        meta = {"number": checkpoint.number, "t": checkpoint.t, "next_dt": checkpoint.next_dt,
                "previous_dt": checkpoint.previous_dt, "ranks": comm.size}
        (directory / (LATEST + ".partial")).write_text(json.dumps(meta))
        os.replace(directory / (LATEST + ".partial"), directory / LATEST)
        for stale in directory.iterdir():
            if not stale.name.startswith((f"{checkpoint.number}-", LATEST)):
                stale.unlink(missing_ok=True)
    comm.Barrier()


def read_checkpoint(run_dir: Path, comm) -> Checkpoint:
    """Collective; a clear error if the run cannot be resumed here."""
    directory = Path(run_dir) / CHECKPOINT_DIR
    meta, error = None, None
    if comm.rank == 0:
        try:
            meta = json.loads((directory / LATEST).read_text())
        except (OSError, json.JSONDecodeError):
            error = f"{run_dir} has no checkpoint to resume from (checkpoints are written at output times)"
        else:
            if meta["ranks"] != comm.size:
                error = (f"{run_dir} was checkpointed on {meta['ranks']} MPI ranks; resume it with "
                         f"mpirun -n {meta['ranks']} (now {comm.size})")
    meta, error = comm.bcast((meta, error), root=0)
    if error:
        raise ConfigError(error)
    number = meta["number"]
    with np.load(directory / f"{number}-rank-{comm.rank}.npz") as saved:
        arrays = {name: saved[name] for name in saved.files}
    with open(directory / f"{number}-record.pkl", "rb") as stream:
        record = pickle.load(stream)
    return Checkpoint(number, meta["t"], meta["next_dt"], meta["previous_dt"], arrays, record)


def _atomic_save(path: Path, arrays: dict) -> None:
    scratch = path.with_name(path.name + ".partial.npz")
    np.savez(scratch, **arrays)
    os.replace(scratch, path)
