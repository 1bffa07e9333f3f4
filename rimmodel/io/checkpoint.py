"""Checkpoints: everything needed to continue a run bit-identically after it was stopped.

Written at every output time: each rank saves its part of the BDF history
(u^n, u^{n-1}, their last step) as ``checkpoint/<k>-rank-<r>.npz`` and rank 0 the
record so far as ``checkpoint/<k>-record.json``; then rank 0 commits checkpoint k by atomically replacing ``checkpoint/latest.json`` and
removes the previous set. A kill at any moment leaves the last committed
checkpoint intact. A run resumes on the same number of ranks (DOLFINx
partitions a mesh identically for a given rank count, so local arrays line up).

A run directory may come from someone else, so a checkpoint is data only: numpy arrays read
with ``allow_pickle=False`` and JSON, every value type-checked. A crafted file cannot run code,
and a damaged one is refused with one line naming it (a ``ConfigError`` on every rank).
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rimmodel.config import ConfigError
from rimmodel.io.record_json import record_from_json, record_to_json

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
        record = directory / f"{checkpoint.number}-record.json"
        record.with_name(record.name + ".partial").write_text(record_to_json(checkpoint.record))
        os.replace(record.with_name(record.name + ".partial"), record)
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
    """Collective; a clear error on every rank if the run cannot be resumed here."""
    directory = Path(run_dir) / CHECKPOINT_DIR
    meta, record, error = None, None, None
    if comm.rank == 0:
        try:
            meta, record = _read_meta(run_dir, directory, comm.size)
        except ConfigError as problem:
            error = str(problem)
    meta, record, error = comm.bcast((meta, record, error), root=0)
    if error:
        raise ConfigError(error)
    arrays, error = None, None
    try:
        arrays = _read_arrays(directory / f"{meta['number']}-rank-{comm.rank}.npz")
    except ConfigError as problem:
        error = str(problem)
    errors = [found for found in comm.allgather(error) if found]
    if errors:
        raise ConfigError(errors[0])
    return Checkpoint(meta["number"], meta["t"], meta["next_dt"], meta["previous_dt"], arrays, record)


def _read_meta(run_dir: Path, directory: Path, ranks: int) -> tuple[dict, object]:
    path = directory / LATEST
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{run_dir} has no checkpoint to resume from (checkpoints are written at output "
                          f"times)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as problem:
        raise ConfigError(f"{path}: unreadable checkpoint index ({_one_line(problem)})") from None
    if not (isinstance(meta, dict) and _is_count(meta.get("number")) and _is_count(meta.get("ranks"))
            and all(_is_real(meta.get(key)) for key in ("t", "next_dt"))
            and (meta.get("previous_dt") is None or _is_real(meta["previous_dt"]))):
        raise ConfigError(f"{path}: not a rimmodel checkpoint index (wants integer number and ranks, "
                          f"numbers t, next_dt, previous_dt)")
    if meta["ranks"] != ranks:
        raise ConfigError(f"{run_dir} was checkpointed on {meta['ranks']} MPI ranks; resume it with "
                          f"mpirun -n {meta['ranks']} (now {ranks})")
    record_path = directory / f"{meta['number']}-record.json"
    pickled = directory / f"{meta['number']}-record.pkl"
    if not record_path.is_file() and pickled.is_file():
        raise ConfigError(f"{pickled}: a pickle checkpoint from an older rimmodel; it is not read (a pickle "
                          f"can run code): rerun instead of resuming")
    try:
        record = record_from_json(record_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as problem:
        raise ConfigError(f"{record_path}: unreadable checkpoint record ({_one_line(problem)})") from None
    return meta, record


def _read_arrays(path: Path) -> dict:
    """This rank's BDF history: two 1-D float arrays of one length, nothing else."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            arrays = {name: saved[name] for name in ("previous", "before_previous")}
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as problem:
        raise ConfigError(f"{path}: unreadable checkpoint arrays ({_one_line(problem)})") from None
    shapes = {array.shape for array in arrays.values()}
    if len(shapes) != 1 or len(shapes.pop()) != 1 or any(array.dtype != np.float64 for array in arrays.values()):
        raise ConfigError(f"{path}: checkpoint arrays 'previous' and 'before_previous' must be 1-D float64 "
                          f"of one length")
    return arrays


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_real(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _one_line(problem: Exception) -> str:
    text = str(problem).strip() or type(problem).__name__
    return " ".join(text.split())


def _atomic_save(path: Path, arrays: dict) -> None:
    scratch = path.with_name(path.name + ".partial.npz")
    np.savez(scratch, **arrays)
    os.replace(scratch, path)
