"""Lesion runs cached in one HDF5 file, keyed by a hash of their resolved model config.

``CachedRuns`` is what every lesion library shares: which runs a request needs (``_wanted``),
which of them the cache already holds, solving the rest (``_build``, the subclass's), merging
what was solved into the cache, and loading entries for queries. A run keyed by its config is
reused by any design that needs the same run, and a changed parameter, mesh, course or horizon
makes a new entry.

Writing: every writer (an MPI group's leader, or a rank batching its share) appends finished
entries to its own part file beside the cache at once; rank 0 then merges the parts into the
cache (a scratch copy renamed over it, under a lock), so a killed build loses at most the runs
in progress and the next build on that host merges what a killed one left.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import socket
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from rimmodel.config import ModelConfig
from rimmodel.config.loading import config_to_toml
from rimmodel.patients.trajectories import BuildReport

ENTRY_FORMAT = "rimmodel lesion library 1"


@dataclass
class Entry:
    time: np.ndarray
    series: dict[str, np.ndarray]


class CachedRuns:
    """Keyed runs in ``path``. Subclasses give ``_wanted(...) -> {key: (config, description)}`` and
    ``_build(missing keys, wanted, comm) -> tags of this build's part files``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._entries: dict[str, Entry] = {}

    @staticmethod
    def key(config: ModelConfig) -> str:
        return hashlib.sha256(f"{ENTRY_FORMAT}\n{config_to_toml(config)}".encode()).hexdigest()[:32]

    def ensure_wanted(self, wanted: dict, comm) -> BuildReport:
        """Solve the runs of ``wanted`` the cache lacks, merge them in and load all. Collective."""
        started = time.perf_counter()
        if comm.rank == 0:
            merge_parts(self.path)  # left on this host by a killed build
        present = comm.bcast(cached_keys(self.path) if comm.rank == 0 else None, root=0)
        missing = sorted(key for key in wanted if key not in present)
        if missing:
            tags = self._build(missing, wanted, comm)
            comm.Barrier()
            if comm.rank == 0:
                merge_parts(self.path, tags)
                try:  # every writer has removed its own scratch directory
                    self.path.with_name(f"{self.path.name}.scratch").rmdir()
                except OSError:
                    pass
            comm.Barrier()
        self._load(list(wanted))
        return BuildReport(runs=len(missing), cached=len(wanted) - len(missing),
                           wall_s=time.perf_counter() - started)

    def _build(self, missing: list[str], wanted: dict, comm) -> tuple[str, ...]:
        raise NotImplementedError

    def part_file(self, tag: str) -> Path:
        return self.path.with_name(f"{self.path.name}.part-{tag}")

    def _load(self, keys: list[str]) -> None:
        needed = [key for key in keys if key not in self._entries]
        if not needed:
            return
        with h5py.File(self.path, "r") as cache:
            for key in needed:
                node = cache["entries"][key]
                self._entries[key] = Entry(node["time"][()], {name: node["series"][name][()]
                                                              for name in node["series"]})

    def entry(self, key: str) -> Entry:
        if key not in self._entries:
            if not self.path.exists():
                raise KeyError(f"lesion library {self.path} does not exist: call ensure() first")
            try:
                self._load([key])
            except KeyError:
                raise KeyError(f"lesion run {key} is not in {self.path}: call ensure() first") from None
        return self._entries[key]


def writer_tag(suffix: str) -> str:
    """Names a part file by its writer: host, process and group (merge_parts knows a dead writer by it)."""
    return f"{socket.gethostname()}-{os.getpid()}-g{suffix}"


def write_entry(part: Path, key: str, record, config: ModelConfig, description: dict) -> None:
    """``record``: ``.dimension``, ``.time`` and ``.series`` (a run record, or one part of a batch)."""
    with h5py.File(part, "a") as handle:
        if key in handle.get("entries", {}):
            return
        node = handle.require_group("entries").create_group(key)
        node.attrs["description"] = json.dumps(description)
        node.attrs["config_toml"] = config_to_toml(config)
        node.attrs["dimension"] = record.dimension
        node.create_dataset("time", data=np.asarray(record.time, float))
        series = node.create_group("series")
        for name, values in record.series.items():
            series.create_dataset(name, data=np.asarray(values, float))


def cached_keys(path: Path) -> set[str]:
    if not path.exists():
        return set()
    with h5py.File(path, "r") as cache:
        return set(cache.get("entries", {}))


def merge_parts(path: Path, own: tuple[str, ...] = ()) -> int:
    """Fold part files beside ``path`` into it (a scratch copy renamed over it); returns entries added.

    Merged: this build's own parts (``own`` tags, all finished) and parts left on this host by
    processes that no longer run (a killed build); a part another running build may still append
    to is left to it. An exclusive lock beside the cache keeps two merges apart."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f"{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        parts = [part for part in sorted(path.parent.glob(f"{path.name}.part-*"))
                 if part.name.split(".part-", 1)[1] in own or _abandoned(part.name.split(".part-", 1)[1])]
        return _merge_locked(path, parts) if parts else 0


def _abandoned(tag: str) -> bool:
    """A part whose writer (``host-pid-gGROUP``) ran on this host and has exited."""
    writer = tag.rpartition("-g")[0]
    host, _, pid = writer.rpartition("-")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _merge_locked(path: Path, parts: list[Path]) -> int:
    scratch = path.with_name(f"{path.name}.merging-{os.getpid()}")
    if path.exists():
        shutil.copyfile(path, scratch)
    added, merged = 0, []
    with h5py.File(scratch, "a") as cache:
        cache.attrs["format"] = ENTRY_FORMAT
        entries = cache.require_group("entries")
        for part in parts:
            try:
                with h5py.File(part, "r") as source:
                    for key in source.get("entries", {}):
                        if key not in entries:
                            source.copy(source["entries"][key], entries, name=key)
                            added += 1
                merged.append(part)
            except (OSError, KeyError) as error:  # cut short by a kill: its runs will be redone
                warnings.warn(f"lesion library: skipping unreadable part file {part} ({error})", stacklevel=2)
                part.rename(part.with_name(part.name.replace(".part-", ".broken-")))
    os.replace(scratch, path)
    for part in merged:
        part.unlink()
    return added


def library_summary(path: Path) -> dict:
    """Entries and the solver wall time they took (for reports and the benchmark)."""
    if not path.exists():
        return {"entries": 0, "wall_s": 0.0}
    with h5py.File(path, "r") as cache:
        walls = [json.loads(node.attrs["description"]).get("wall_s", 0.0) for node in cache.get("entries", {}).values()]
    return {"entries": len(walls), "wall_s": float(sum(walls))}
