"""What has finished: one append-only JSON-lines journal per group, synced line by line.

A kill (Slurm's wall-time limit, a node failure, Ctrl-C) can at worst leave a
half-written last line, which reading skips: that sample simply runs again.
Journals are never truncated or rewritten, so a rerun cannot lose a result.
JSON keeps floats exactly (shortest round-trip repr), so aggregation from the
journals is bit-identical to the values the model returned.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path

JOURNAL_DIR = "journal"


@dataclass
class SampleOutcome:
    index: int
    status: str                      # "completed" or "failed"
    reason: str = ""
    time: list[float] = field(default_factory=list)
    series: dict[str, list[float]] = field(default_factory=dict)
    wall_s: float = 0.0
    group: int = 0
    ranks: int = 1
    units: dict[str, str] = field(default_factory=dict)  # observable -> unit (absent in older journals)


def worker_name(group: int) -> str:
    """Host, process and group of a group's leader: unique among concurrent studies on one directory
    (the tasks of a Slurm job array), so each names its journal and its scratch run by it."""
    return f"{socket.gethostname()}-{os.getpid()}-group-{group:05d}"


def worker_process(name: str) -> dict:
    """The host and pid in a ``worker_name`` (empty if the name is not one)."""
    prefix, separator, _ = name.rpartition("-group-")
    host, _, pid = prefix.rpartition("-")
    return {"host": host, "pid": int(pid)} if separator and host and pid.isdigit() else {}


class Journal:
    """The journal one group's leader appends to: its own file (``worker_name``), so
    concurrent studies on one directory (a Slurm job array) never write the same file."""

    def __init__(self, study_dir: Path, group: int):
        directory = Path(study_dir) / JOURNAL_DIR
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{worker_name(group)}.jsonl"

    def append(self, outcome: SampleOutcome) -> None:
        with open(self.path, "a") as stream:
            stream.write(json.dumps(asdict(outcome)) + "\n")
            stream.flush()
            os.fsync(stream.fileno())


def read_outcomes(study_dir: Path) -> dict[int, SampleOutcome]:
    """Every recorded sample, by index (a sample recorded twice keeps its first record)."""
    outcomes: dict[int, SampleOutcome] = {}
    for path in sorted((Path(study_dir) / JOURNAL_DIR).glob("*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                outcome = SampleOutcome(**json.loads(line))
            except (json.JSONDecodeError, TypeError):
                continue  # a line cut short by a kill
            outcomes.setdefault(outcome.index, outcome)
    return outcomes
