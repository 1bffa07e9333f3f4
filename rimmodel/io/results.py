"""The run directory's observables file (HDF5) and status: write, and read back.

Pure numpy + h5py, no FEM stack: the visualisation side reads runs with it.

Layout of ``observables.h5`` (documented in docs/outputs.md):
  attrs            status, reason, dimension, provenance (JSON), config (TOML)
  time             (n,) yr, output times
  observables/*    (n,) scalar time series, each with a ``units`` attribute (derived at writing:
                   expansion_rate, pbvc_per_year, cortical_pbvc_per_year)
  btk/*            (n,) occupancy at the output times
  profiles/*       depth_bin_edges (b+1,) mm; myelin_loss, axon_loss (n, b) mean loss per bin
  solver/*         one row per attempted step: time, dt, accepted, newton/linear iterations, wall time, reason

The file is rewritten whole and atomically (write to a temporary name, then
``os.replace``) at every output, so a crash or a kill never leaves it
half-written: it always holds every output reached so far.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

OBSERVABLES_FILE = "observables.h5"
STATUS_FILE = "status.json"
CONFIG_FILE = "config.toml"
FIELDS_FILE = "fields.xdmf"


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


def write_record(run_dir: Path, record: RunRecord) -> None:
    """Atomically (re)write observables.h5 and status.json. Call on one rank only."""
    path = Path(run_dir) / OBSERVABLES_FILE
    scratch = path.with_name(path.name + ".partial")
    with h5py.File(scratch, "w") as h5:
        _write_contents(h5, record)
    os.replace(scratch, path)
    write_status(run_dir, record.status, record.reason, record.time[-1] if record.time else 0.0)


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
    for key in ("time", "dt", "accepted", "newton_iterations", "linear_iterations", "wall_time"):
        solver.create_dataset(key, data=np.array([s[key] for s in record.steps], dtype=float))
    solver.create_dataset("reason", data=np.array([s["reason"] for s in record.steps], dtype=h5py.string_dtype()))
    timing = h5.create_group("timing")
    for phase, seconds in record.timing.items():
        timing.create_dataset(phase, data=seconds).attrs["units"] = "s"


def write_status(run_dir: Path, status: str, reason: str, t_reached: float) -> None:
    path = Path(run_dir) / STATUS_FILE
    scratch = path.with_name(path.name + ".partial")
    scratch.write_text(json.dumps({"status": status, "reason": reason, "t_reached_yr": t_reached}, indent=2))
    os.replace(scratch, path)


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


def read_run(run_dir: str | Path) -> RunResults:
    path = Path(run_dir) / OBSERVABLES_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a rimmodel run directory: no {OBSERVABLES_FILE}")
    with h5py.File(path, "r") as h5:
        attrs = dict(h5.attrs)
        observables = {k: v[()] for k, v in h5["observables"].items()}
        units = {k: v.attrs.get("units", "") for k, v in h5["observables"].items()}
        return RunResults(
            path=Path(run_dir), status=str(attrs["status"]), reason=str(attrs["reason"]),
            dimension=int(attrs["dimension"]), provenance=json.loads(attrs["provenance"]),
            config_toml=str(attrs["config"]), time=h5["time"][()], observables=observables, units=units,
            btk={k: v[()] for k, v in h5["btk"].items()},
            profiles={k: v[()] for k, v in h5["profiles"].items()},
            solver={k: v[()] for k, v in h5["solver"].items()},
            timing={k: float(v[()]) for k, v in h5.get("timing", {}).items()})
