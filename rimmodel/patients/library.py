"""``SectionLibrary``: lesion courses from cached 2D section runs of the full model.

One run per (location, rim or inactive, occupancy course, parameter draw, grid radius), on a
section big enough for the largest grid radius; follicles are off in lesion runs (the cortex is a
patient-level component with its own runs: one follicle patch on a lesion-free section). Runs
are keyed by a hash of their resolved model config, so a cache built for one trial serves any
other that needs the same runs, and a changed parameter, mesh or course makes a new entry.

From 2D sections to 3D lesions (until the radial model of issue 17 replaces them): an isolated
lesion's edge is a front whose advance barely depends on its radius, so a lesion of initial
radius r0 gets the edge advance dr(t) of the library runs interpolated linearly in r0 (held at
the nearest grid radius outside the grid), radius r0 + dr(t), and sphere volume; extensive
quantities (rim, axon loss, tissue loss, iron) are carried as densities relative to the run's
lesion size, q(t) = Q_2D(t) / A_2D(t), times that volume. The 2D runs model cylinders, so the
curvature of a sphere's front (2/r instead of 1/r) is missed; docs/patients.md says where it
matters.

Building: missing runs are shared among MPI groups of ``ranks_per_run`` ranks through a shared
counter (as studies are); each group's leader appends finished entries to its own part file at
once, and rank 0 merges the parts into the cache file (written to a scratch copy, then renamed),
so a killed build loses at most the run in progress.
"""

from __future__ import annotations

import copy
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
from typing import Iterable

import h5py
import numpy as np

from rimmodel.config import ConfigError, ModelConfig, config_from_dict
from rimmodel.config.loading import config_to_toml, set_dotted
from rimmodel.config.spec import param
from rimmodel.patients.draws import ParameterDraws
from rimmodel.patients.occupancy import OccupancyCourse
from rimmodel.patients.trajectories import (LOCATIONS, BuildReport, CortexClass, CortexCourse, LesionClass,
                                           LesionCourses, sphere_volume)

ENTRY_FORMAT = "rimmodel lesion library 1"
FOLLICLE_PATCH_WIDTH = 0.8  # mm, standard deviation of the single patch of the cortex runs
# effective pial length of a Gaussian patch of density 1: integral of its profile
FOLLICLE_PATCH_LENGTH = float(np.sqrt(2.0 * np.pi) * FOLLICLE_PATCH_WIDTH)
MIN_ROOM = 0.5  # mm between a seeded lesion and the section's other boundaries: room to grow


@dataclass
class LibrarySettings:
    """``[lesion_library]``: the lesion runs behind every patient."""

    model: str = param("section", "-", "Lesion model: 2D sections of the full model (the radial model of "
                       "issue 17 joins when it lands)", choices=("section",))
    radii: list[float] = param(None, "mm", "Initial lesion radii run (queries interpolate between them)",
                               factory=lambda: [0.8, 1.6, 2.4], low=0.2, high=20.0)
    mesh_size: float = param(0.3, "mm", "Cell size of the lesion runs", source="numerical setting",
                             low=0.02, high=2.0)
    width: float = param(8.0, "mm", "Width of the lesion sections", low=2.0, high=100.0)
    white_matter_depth: float = param(7.0, "mm", "White-matter depth of the lesion sections", low=1.0,
                                      high=100.0)
    edge_gap: float = param(0.2, "mm", "Distance from a juxtacortical lesion's edge to the cortex, and a "
                            "periventricular lesion's edge to the ventricle", low=0.0, high=10.0)
    output_interval: float = param(0.25, "yr", "Interval of the stored lesion courses", low=0.01, high=1.0)
    course_resolution: float = param(
        0.5, "yr", "New lesions see the arm's occupancy course from their formation time rounded down to "
        "this (cache reuse)", source="numerical setting", low=0.01, high=10.0)
    ranks_per_run: int = param(1, "-", "Ranks per lesion run (MPI groups of this size share the runs)",
                               low=1, high=4096)


@dataclass
class _Entry:
    time: np.ndarray
    series: dict[str, np.ndarray]


class SectionLibrary:
    """``LesionTrajectories`` from 2D section runs cached in an HDF5 file."""

    def __init__(self, settings: LibrarySettings, base_model: dict, draws: ParameterDraws, horizon: float,
                 cache_path: str | Path):
        self.settings, self.base_model, self.draws = settings, base_model, draws
        self.horizon = float(np.ceil(horizon - 1e-9))  # whole years: designs of similar length share runs
        self.path = Path(cache_path)
        self.radii = np.array(sorted(settings.radii), float)
        self._entries: dict[str, _Entry] = {}
        self._keys: dict[tuple, str] = {}       # (class, radius) or (cortex class,) -> entry key
        self._grids: dict[LesionClass, tuple] = {}
        for location in LOCATIONS:  # every grid radius must fit its section before anything runs
            for radius in self.radii:
                self.lesion_config(LesionClass(location, True, OccupancyCourse(), 0), radius)

    # -- configs and keys -------------------------------------------------------------------------
    def _raw(self, draw: int) -> dict:
        raw = copy.deepcopy(self.base_model)
        for key, value in self.draws.overrides(draw).items():
            set_dotted(raw, key, value)
        s = self.settings
        raw.setdefault("time", {}).update(end=self.horizon, output_interval=s.output_interval)
        raw["output"] = {"fields": False, "progress": False, "checkpoints": False}
        raw.setdefault("follicles", {})["patches"] = []
        return raw

    def lesion_config(self, kind: LesionClass, radius: float) -> ModelConfig:
        s = self.settings
        raw = self._raw(kind.draw)
        cortex = raw.get("geometry", {}).get("cortex_thickness", 2.5)
        geometry = {"width": s.width, "white_matter_depth": s.white_matter_depth, "mesh_size": s.mesh_size,
                    "pial_mesh_size": s.mesh_size, "lesion_mesh_size": s.mesh_size, "cortex_thickness": cortex}
        total = cortex + s.white_matter_depth
        if kind.location == "periventricular":
            ventricle = 1.5
            geometry.update(kind="periventricular_section", ventricle_radius=ventricle)
            depth = total - ventricle - s.edge_gap - radius
        elif kind.location == "juxtacortical":
            geometry["kind"] = "cortical_section"
            depth = cortex + s.edge_gap + radius
        else:
            geometry["kind"] = "cortical_section"
            depth = cortex + s.white_matter_depth / 2.0
        raw["geometry"] = geometry
        raw.setdefault("lesion", {}).update(radius=float(radius), centre_x=s.width / 2.0, depth_below_pia=depth)
        if not kind.rim:
            raw["lesion"]["core_microglia"] = 0.0
        raw["btk"] = raw.get("btk", {}) | kind.course.btk_table()
        config = _config(raw, f"lesion_library ({kind.location} lesion of radius {radius:g} mm)")
        clearance = {"side": s.width / 2.0 - radius, "top": depth - radius - cortex, "bottom": total - depth - radius}
        placed = {"juxtacortical": "top", "periventricular": "bottom"}.get(kind.location)
        if min(value for side, value in clearance.items() if side != placed) < MIN_ROOM:
            raise ConfigError(f"lesion_library.radii: a {kind.location} lesion of radius {radius:g} mm does not "
                              f"fit the {s.width:g} x {s.white_matter_depth:g} mm section with room to grow; "
                              "enlarge lesion_library.width / white_matter_depth or lower the radii")
        return config

    def cortex_config(self, kind: CortexClass) -> ModelConfig:
        s = self.settings
        raw = self._raw(kind.draw)
        cortex = raw.get("geometry", {}).get("cortex_thickness", 2.5)
        depth = 1.0
        raw["geometry"] = {"kind": "cortical_section", "width": s.width, "white_matter_depth": depth,
                           "mesh_size": s.mesh_size, "cortex_thickness": cortex}
        raw["lesion"] = {"radius": 0.05, "centre_x": s.width / 2.0, "depth_below_pia": cortex + depth / 2.0,
                         "core_myelin": 1.0, "core_microglia": 0.0, "core_axons": 1.0, "core_tissue": 1.0}
        raw["follicles"]["patches"] = [{"centre": [s.width / 2.0, cortex + depth], "width": FOLLICLE_PATCH_WIDTH,
                                        "density": 1.0}]
        raw["btk"] = raw.get("btk", {}) | kind.course.btk_table()
        return _config(raw, "lesion_library (cortex under a follicle)")

    @staticmethod
    def key(config: ModelConfig) -> str:
        return hashlib.sha256(f"{ENTRY_FORMAT}\n{config_to_toml(config)}".encode()).hexdigest()[:32]

    def _wanted(self, lesions: Iterable[LesionClass], cortices: Iterable[CortexClass]) -> dict:
        wanted = {}
        for kind in sorted(set(lesions), key=_order):
            for radius in self.radii:
                config = self.lesion_config(kind, radius)
                wanted[self.key(config)] = (config, {"kind": "lesion", "location": kind.location, "rim": kind.rim,
                                                     "radius": float(radius), "course": kind.course.label(),
                                                     "draw": kind.draw})
        for kind in sorted(set(cortices), key=lambda c: (c.course.label(), c.draw)):
            config = self.cortex_config(kind)
            wanted[self.key(config)] = (config, {"kind": "cortex", "course": kind.course.label(),
                                                 "draw": kind.draw})
        return wanted

    # -- building -----------------------------------------------------------------------------------
    def ensure(self, lesions: Iterable[LesionClass], cortices: Iterable[CortexClass], comm) -> BuildReport:
        started = time.perf_counter()
        wanted = self._wanted(lesions, cortices)
        if comm.rank == 0:
            merge_parts(self.path)  # left on this host by a killed build
        present = comm.bcast(cached_keys(self.path) if comm.rank == 0 else None, root=0)
        missing = sorted(key for key in wanted if key not in present)
        if missing:
            tags = self._build(missing, wanted, comm)
            comm.Barrier()
            if comm.rank == 0:
                merge_parts(self.path, tags)
                try:  # every group has removed its own scratch directory
                    self.path.with_name(f"{self.path.name}.scratch").rmdir()
                except OSError:
                    pass
            comm.Barrier()
        self._load(list(wanted))
        return BuildReport(runs=len(missing), cached=len(wanted) - len(missing),
                           wall_s=time.perf_counter() - started)

    def _build(self, missing: list[str], wanted: dict, comm) -> tuple[str, ...]:
        """Solve the missing runs; returns the tags of this build's part files."""
        from rimmodel.solver.time_loop import SolverFailure
        from rimmodel.study.scheduler import NEXT, SharedCounters, split_into_groups

        group_comm, group, _ = split_into_groups(comm, self.settings.ranks_per_run)
        leader = group_comm.rank == 0
        tag = group_comm.bcast(f"{socket.gethostname()}-{os.getpid()}-g{group:04d}" if leader else None, root=0)
        part = self.path.with_name(f"{self.path.name}.part-{tag}")
        scratch = self.path.with_name(f"{self.path.name}.scratch") / tag
        counters = SharedCounters(comm)
        simulations: dict[str, object] = {}
        try:
            while True:
                slot = group_comm.bcast(counters.add(NEXT) if leader else None, root=0)
                if slot >= len(missing):
                    break
                key = missing[slot]
                config, description = wanted[key]
                began = time.perf_counter()
                try:
                    record = _simulation(simulations, config, group_comm).run(scratch, overwrite=True)
                except SolverFailure as failure:
                    raise SolverFailure(failure.t, failure.dt, f"lesion library run {json.dumps(description)}: "
                                        f"{failure.reason}") from None
                if leader:
                    write_entry(part, key, record, config, description | {"wall_s": time.perf_counter() - began})
        finally:
            counters.free()
            group_comm.Free()
            if leader:
                shutil.rmtree(scratch, ignore_errors=True)
        return tuple(sorted(set(comm.allgather(tag))))

    # -- queries ------------------------------------------------------------------------------------
    def _load(self, keys: list[str]) -> None:
        needed = [key for key in keys if key not in self._entries]
        if not needed:
            return
        with h5py.File(self.path, "r") as cache:
            for key in needed:
                node = cache["entries"][key]
                self._entries[key] = _Entry(node["time"][()], {name: node["series"][name][()]
                                                               for name in node["series"]})

    def _lesion_key(self, kind: LesionClass, radius: float) -> str:
        if (kind, radius) not in self._keys:
            self._keys[(kind, radius)] = self.key(self.lesion_config(kind, radius))
        return self._keys[(kind, radius)]

    def _cortex_key(self, kind: CortexClass) -> str:
        if (kind,) not in self._keys:
            self._keys[(kind,)] = self.key(self.cortex_config(kind))
        return self._keys[(kind,)]

    def _entry(self, key: str) -> _Entry:
        if key not in self._entries:
            if not self.path.exists():
                raise KeyError(f"lesion library {self.path} does not exist: call ensure() first")
            try:
                self._load([key])
            except KeyError:
                raise KeyError(f"lesion run {key} is not in {self.path}: call ensure() first") from None
        return self._entries[key]

    def _grid(self, kind: LesionClass) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """(stored times, edge advance (radii, times), densities relative to lesion size (radii, times))."""
        if kind not in self._grids:
            grid = [self._entry(self._lesion_key(kind, radius)) for radius in self.radii]
            stored = grid[0].time
            if any(entry.time.shape != stored.shape or np.any(entry.time != stored) for entry in grid):
                raise ValueError(f"lesion library {self.path}: runs of one class have different output times")
            radius = np.array([entry.series["lesion_equivalent_radius"] for entry in grid])
            size = np.array([entry.series["lesion_size"] for entry in grid])
            size = np.where(size > 0, size, np.inf)
            density = {name: np.array([entry.series[name] for entry in grid]) / size
                       for name in ("rim_size", "axon_loss", "tissue_loss", "iron_rim_size")}
            self._grids[kind] = (stored, radius - radius[:, :1], density)
        return self._grids[kind]

    def lesions(self, kind: LesionClass, initial_radius: np.ndarray, times: np.ndarray) -> LesionCourses:
        times = self._check_times(times)
        stored, stored_advance, stored_density = self._grid(kind)

        def at_times(values):
            return np.array([np.interp(times, stored, row) for row in values])

        advance = at_times(stored_advance)
        density = {name: at_times(values) for name, values in stored_density.items()}
        r0 = np.asarray(initial_radius, float)
        low, high, weight = _bracket(self.radii, r0)

        def blend(values):
            return (1.0 - weight)[:, None] * values[low] + weight[:, None] * values[high]

        radius = r0[:, None] + blend(advance)
        volume = sphere_volume(radius)
        return LesionCourses(radius, volume, blend(density["rim_size"]) * volume,
                             blend(density["axon_loss"]) * volume, blend(density["tissue_loss"]) * volume,
                             blend(density["iron_rim_size"]) * volume)

    def cortex(self, kind: CortexClass, times: np.ndarray) -> CortexCourse:
        times = self._check_times(times)
        entry = self._entry(self._cortex_key(kind))
        axons = np.interp(times, entry.time, entry.series["cortical_axon_loss"])
        tissue = entry.series["cortical_parenchymal_volume"]
        tissue_loss = np.interp(times, entry.time, tissue[0] - tissue)
        return CortexCourse((axons - entry.series["cortical_axon_loss"][0]) / FOLLICLE_PATCH_LENGTH,
                            tissue_loss / FOLLICLE_PATCH_LENGTH)

    def _check_times(self, times: np.ndarray) -> np.ndarray:
        times = np.asarray(times, float)
        if times.size and (times.min() < -1e-9 or times.max() > self.horizon + 1e-9):
            raise ValueError(f"lesion courses are stored for 0 to {self.horizon:g} yr; asked for "
                             f"{times.min():g} to {times.max():g} yr")
        return np.clip(times, 0.0, self.horizon)


def _order(kind: LesionClass):
    return (kind.location, kind.rim, kind.course.label(), kind.draw)


def _bracket(grid: np.ndarray, values: np.ndarray):
    """Indices and weights of linear interpolation on ``grid``, held at the ends."""
    if grid.size == 1:
        zeros = np.zeros(values.size, int)
        return zeros, zeros, np.zeros(values.size)
    low = np.clip(np.searchsorted(grid, values) - 1, 0, grid.size - 2)
    weight = np.clip((values - grid[low]) / (grid[low + 1] - grid[low]), 0.0, 1.0)
    return low, low + 1, weight


def _config(raw: dict, context: str) -> ModelConfig:
    try:
        return config_from_dict(raw)
    except ConfigError as error:
        raise ConfigError(f"{context}: {error}") from None


def _simulation(simulations: dict, config: ModelConfig, comm):
    """One Simulation per mesh, reconfigured between runs (forms compiled once)."""
    from rimmodel.simulation import Simulation

    mesh = repr((config.geometry, config.discretisation, config.time.scheme, config.solver.petsc_options))
    if mesh in simulations:
        simulations[mesh].reconfigure(config)
    else:
        simulations[mesh] = Simulation(config, comm)
    return simulations[mesh]


# -- the cache file ---------------------------------------------------------------------------------
def write_entry(part: Path, key: str, record, config: ModelConfig, description: dict) -> None:
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
