"""The run directory's observables file (HDF5) and status: write, and read back.

Pure numpy + h5py, no FEM stack: the visualisation side reads runs with it.

Layout of ``observables.h5`` (documented in docs/outputs.md)::

  attrs            status, reason, dimension, provenance (JSON), config (TOML)
  time             (n,) yr, output times
  observables/*    (n,) scalar time series, each with a ``units`` attribute (derived at writing:
                   expansion_rate, pbvc_per_year, cortical_pbvc_per_year)
  btk/*            (n,) occupancy at the output times
  profiles/*       depth_bin_edges (b+1,) mm; myelin_loss, axon_loss (n, b) mean loss per bin
  solver/*         one row per attempted step: time, dt, accepted, newton/linear iterations, wall time, reason

The file is rewritten whole and atomically (write to a temporary name, then
``os.replace``) at every output, so a crash or a kill never leaves it
half-written: it always holds every output reached so far. The file is built in
memory and written with one plain write, so a full disk fails cleanly; the
temporary file is then removed.

``status.json`` is the newer word on how the run stands (it is rewritten after
``observables.h5``, and between outputs as a heartbeat): it names the writing
process (pid, host, start) and the heartbeat time, so a reader can tell a run
that says ``running`` but whose process is gone (``RunResults.stale``).
"""

from __future__ import annotations

import errno
import io
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from rimmodel.io.unreadable import UnreadableFile, hdf5_file, reading
from rimmodel.io.liveness import process_gone, this_process

OBSERVABLES_FILE = "observables.h5"
STATUS_FILE = "status.json"
CONFIG_FILE = "config.toml"
FIELDS_FILE = "fields.xdmf"
HEARTBEAT_S = 30.0      # a running process refreshes status.json at least this often between steps
STALE_AFTER_S = 600.0   # no heartbeat for this long (or 3x the longest step, if longer): presumed dead
# per attempted step: "1" marks a count or a flag (accepted = 1, rejected = 0)
SOLVER_UNITS = {"time": "yr", "dt": "yr", "accepted": "1", "newton_iterations": "1", "linear_iterations": "1",
                "wall_time": "s"}


@dataclass
class RunRecord:
    """Everything a run has produced so far, in memory (identical on all ranks)."""

    dimension: int
    units: dict[str, str]
    provenance: dict
    config_toml: str
    time: list[float] = field(default_factory=list)
    series: dict[str, list[float]] = field(default_factory=dict)
    btk: dict[str, list[float]] = field(default_factory=lambda: {"cns": [], "peripheral": []})
    depth_bin_edges: np.ndarray | None = None
    profiles: dict[str, list[np.ndarray]] = field(default_factory=dict)
    steps: list[dict] = field(default_factory=list)
    timing: dict[str, float] = field(default_factory=dict)   # s per phase (rimmodel.solver.phases)
    status: str = "running"
    reason: str = ""

    def add_output(self, t: float, values: dict[str, float], profile: dict[str, np.ndarray],
                   occupancy: tuple[float, float]) -> None:
        self.time.append(t)
        for name, value in values.items():
            self.series.setdefault(name, []).append(value)
        for name, value in profile.items():
            self.profiles.setdefault(name, []).append(np.asarray(value))
        self.btk["cns"].append(occupancy[0])
        self.btk["peripheral"].append(occupancy[1])


def expansion_rate(time: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """d(radius)/dt in mm/yr: central differences inside, one-sided at the ends."""
    if time.size < 2:
        return np.zeros_like(radius)
    return np.gradient(radius, time)


def percent_volume_change_per_year(time: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """100 (dV/dt) / V in %/yr, the model-side percentage brain volume change (as expansion_rate)."""
    volume = np.asarray(volume, dtype=float)
    return 100.0 * expansion_rate(time, volume) / np.where(volume > 0, volume, np.nan)


def write_record(run_dir: Path, record: RunRecord, stale_after_s: float = STALE_AFTER_S) -> None:
    """Atomically (re)write observables.h5 and status.json. Call on one rank only."""
    path = Path(run_dir) / OBSERVABLES_FILE
    scratch = path.with_name(path.name + ".partial")
    buffer = io.BytesIO()  # built in memory: a full disk then fails one plain write, not HDF5 mid-file
    with h5py.File(buffer, "w") as h5:
        _write_contents(h5, record)
    try:
        scratch.write_bytes(buffer.getbuffer())
        os.replace(scratch, path)
    finally:
        scratch.unlink(missing_ok=True)  # left only if writing failed
    write_status(run_dir, record.status, record.reason, record.time[-1] if record.time else 0.0, stale_after_s)


def _write_contents(h5: h5py.File, record: RunRecord) -> None:
    h5.attrs.update(status=record.status, reason=record.reason, dimension=record.dimension,
                    provenance=json.dumps(record.provenance), config=record.config_toml)
    time = np.asarray(record.time, dtype=float)
    h5.create_dataset("time", data=time).attrs["units"] = "yr"
    group = h5.create_group("observables")
    for name, values in record.series.items():
        group.create_dataset(name, data=np.asarray(values)).attrs["units"] = record.units.get(name, "")
    if "lesion_equivalent_radius" in record.series:
        rate = expansion_rate(time, np.asarray(record.series["lesion_equivalent_radius"]))
        group.create_dataset("expansion_rate", data=rate).attrs["units"] = "mm/yr"
    for volume, derived in (("parenchymal_volume", "pbvc_per_year"),
                            ("cortical_parenchymal_volume", "cortical_pbvc_per_year")):
        if volume in record.series:
            change = percent_volume_change_per_year(time, np.asarray(record.series[volume]))
            group.create_dataset(derived, data=change).attrs["units"] = "%/yr"
    btk = h5.create_group("btk")
    for name, values in record.btk.items():
        btk.create_dataset(name, data=np.asarray(values)).attrs["units"] = "1"
    profiles = h5.create_group("profiles")
    if record.depth_bin_edges is not None:
        profiles.create_dataset("depth_bin_edges", data=record.depth_bin_edges).attrs["units"] = "mm"
    for name, rows in record.profiles.items():
        profiles.create_dataset(name, data=np.array(rows)).attrs["units"] = "1"
    solver = h5.create_group("solver")
    for key, unit in SOLVER_UNITS.items():
        solver.create_dataset(key, data=np.array([s[key] for s in record.steps], dtype=float)).attrs["units"] = unit
    solver.create_dataset("reason", data=np.array([s["reason"] for s in record.steps], dtype=h5py.string_dtype()))
    timing = h5.create_group("timing")
    for phase, seconds in record.timing.items():
        timing.create_dataset(phase, data=seconds).attrs["units"] = "s"


def write_status(run_dir: Path, status: str, reason: str, t_reached: float,
                 stale_after_s: float = STALE_AFTER_S) -> None:
    """Atomically, naming this process and the time (the heartbeat)."""
    path = Path(run_dir) / STATUS_FILE
    scratch = path.with_name(path.name + ".partial")
    content = {"status": status, "reason": reason, "t_reached_yr": t_reached, **this_process(),
               "stale_after_s": stale_after_s}
    text = json.dumps(content, indent=2)
    try:
        scratch.write_text(text)
        os.replace(scratch, path)
    except OSError as error:
        scratch.unlink(missing_ok=True)
        if error.errno not in (errno.ENOSPC, errno.EDQUOT) or not path.is_file():
            raise
        with open(path, "r+") as stream:  # a full disk has no block for a new file: reuse this one's
            stream.write(text)
            stream.truncate()


def read_status(run_dir: str | Path) -> dict:
    """status.json as written ({} if there is none or it cannot be read)."""
    try:
        return read_status_or_raise(run_dir)
    except (FileNotFoundError, UnreadableFile):
        return {}


def read_status_or_raise(run_dir: str | Path) -> dict:
    """status.json as written; FileNotFoundError if there is none, UnreadableFile (naming it) if it
    is not a UTF-8 JSON object."""
    path = Path(run_dir) / STATUS_FILE
    with reading(path, "run status"):
        status = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(status, dict):
            raise ValueError(f"a JSON {type(status).__name__}, not an object")
    return status


def stale_reason(status: dict) -> str:
    """Why a status that says ``running`` is not believed ("" if it is, or says something else, or
    names its process in a form this cannot check)."""
    if status.get("status") != "running" or "pid" not in status:
        return ""
    who = f"pid {status['pid']} on host {status.get('host')}"
    gone = process_gone(status)
    if gone:
        return f"its process ({who}) has ended without recording why (killed?); last heartbeat {status.get('heartbeat')}"
    heartbeat, patience = _seconds(status.get("heartbeat_unix")), _seconds(status.get("stale_after_s", STALE_AFTER_S))
    if gone is None and heartbeat is not None and patience is not None and time.time() - heartbeat > patience:
        return (f"no heartbeat from its process ({who}) for {heartbeat_age_text(status)} "
                f"(since {status.get('heartbeat')}); it was probably killed")
    return ""


def heartbeat_age_text(status: dict) -> str:
    """How long ago status.json was last refreshed, e.g. "12 min" ("" if it does not say)."""
    heartbeat = _seconds(status.get("heartbeat_unix"))
    if heartbeat is None:
        return ""
    return f"{max(time.time() - heartbeat, 0.0) / 60:.0f} min"


def _seconds(value) -> float | None:
    """A number of seconds from a status field; None for anything else (a hand-edited or foreign file)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        return None
    return float(value)


@dataclass
class RunResults:
    """A run read back from disk."""

    path: Path
    status: str
    reason: str
    dimension: int
    provenance: dict
    config_toml: str
    time: np.ndarray
    observables: dict[str, np.ndarray]
    units: dict[str, str]
    btk: dict[str, np.ndarray]
    profiles: dict[str, np.ndarray]
    solver: dict[str, np.ndarray]
    timing: dict[str, float]      # wall seconds per phase (max over ranks); empty for older runs
    stale: str = ""               # why a "running" status is not believed: its process is gone ("" if not)
    heartbeat_age: str = ""       # how long ago status.json was refreshed, e.g. "12 min" ("" if unknown)

    @property
    def status_text(self) -> str:
        """The status for a reader: "stale: last heartbeat 12 min ago" for a run whose process is gone."""
        if not self.stale:
            return self.status
        return f"stale: last heartbeat {self.heartbeat_age} ago" if self.heartbeat_age else "stale"


def read_run(run_dir: str | Path) -> RunResults:
    path = Path(run_dir) / OBSERVABLES_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a rimmodel run directory: no {OBSERVABLES_FILE}")
    status = read_status(run_dir)
    with hdf5_file(path, "run observables") as h5:
        attrs = dict(h5.attrs)
        observables = {k: v[()] for k, v in h5["observables"].items()}
        units = {k: v.attrs.get("units", "") for k, v in h5["observables"].items()}
        return RunResults(
            path=Path(run_dir), status=str(status.get("status", attrs["status"])),
            reason=str(status.get("reason", attrs["reason"])), stale=stale_reason(status),
            heartbeat_age=heartbeat_age_text(status),
            dimension=int(attrs["dimension"]), provenance=json.loads(attrs["provenance"]),
            config_toml=str(attrs["config"]), time=h5["time"][()], observables=observables, units=units,
            btk={k: v[()] for k, v in h5["btk"].items()},
            profiles={k: v[()] for k, v in h5["profiles"].items()},
            solver={k: v[()] for k, v in h5["solver"].items()},
            timing={k: float(v[()]) for k, v in h5.get("timing", {}).items()})
