"""``SectionLibrary``: lesion courses from cached 2D section runs of the full model.

One run per (location, rim or inactive, occupancy course, parameter draw, grid radius), on a
section big enough for the largest grid radius; follicles are off in lesion runs (the cortex is a
patient-level component with its own runs: one follicle patch on a lesion-free section). Runs
are cached by their resolved config (``cache.CachedRuns``), so a cache built for one trial serves
any other that needs the same runs, and a changed parameter, mesh or course makes a new entry.

From 2D sections to 3D lesions: ``radius_grid.RadiusGrid`` (edge advance interpolated in the
seeded radius, extensive quantities as densities relative to the run's lesion area times the
sphere's volume). The 2D runs model cylinders, so the curvature of a sphere's front (2/r
instead of 1/r) is missed; docs/patients.md says where it matters. White-matter lesions use the
radial (spherical) model by default (``radial.RadialTrajectories``); juxtacortical and
periventricular lesions, which touch boundaries, and the cortex stay here.

Building: missing runs are shared among MPI groups of ``ranks_per_run`` ranks through a shared
counter (as studies are); each group's leader appends finished entries to its own part file at
once, and rank 0 merges the parts into the cache file.
"""

from __future__ import annotations

import copy
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from rimmodel.config import ConfigError, ModelConfig, config_from_dict
from rimmodel.config.loading import set_dotted
from rimmodel.config.spec import param
from rimmodel.patients.cache import CachedRuns, write_entry, writer_tag
from rimmodel.patients.draws import ParameterDraws
from rimmodel.patients.occupancy import OccupancyCourse
from rimmodel.patients.radius_grid import RadiusGrid
from rimmodel.patients.trajectories import (LOCATIONS, BuildReport, CortexClass, CortexCourse, LesionClass,
                                           LesionCourses)

LIBRARY_MODELS = ("radial", "section")
FOLLICLE_PATCH_WIDTH = 0.8  # mm, standard deviation of the single patch of the cortex runs
# effective pial length of a Gaussian patch of density 1: integral of its profile
FOLLICLE_PATCH_LENGTH = float(np.sqrt(2.0 * np.pi) * FOLLICLE_PATCH_WIDTH)
MIN_ROOM = 0.5  # mm between a seeded lesion and the section's other boundaries: room to grow


@dataclass
class LibrarySettings:
    """``[lesion_library]``: the lesion runs behind every patient."""

    model: str = param("radial", "-", "Model of white-matter lesions: radial (spherical lesions, batched 1D runs) "
                       "or section (2D sections); juxtacortical and periventricular lesions and the cortex always "
                       "use 2D sections", choices=LIBRARY_MODELS)
    radii: list[float] = param(None, "mm", "Initial lesion radii of the section runs (queries interpolate "
                               "between them)", factory=lambda: [0.8, 1.6, 2.4], low=0.2, high=20.0)
    mesh_size: float = param(0.3, "mm", "Cell size of the section runs", source="numerical setting",
                             low=0.02, high=2.0)
    width: float = param(8.0, "mm", "Width of the lesion sections", low=2.0, high=100.0)
    white_matter_depth: float = param(7.0, "mm", "White-matter depth of the lesion sections", low=1.0,
                                      high=100.0)
    edge_gap: float = param(0.2, "mm", "Distance from a juxtacortical lesion's edge to the cortex, and a "
                            "periventricular lesion's edge to the ventricle", low=0.0, high=10.0)
    radial_radii: list[float] = param(
        None, "mm", "Initial lesion radii of the radial runs",
        factory=lambda: [0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0], low=0.05, high=20.0)
    radial_mesh_size: float = param(
        0.1, "mm", "Cell size of the radial runs", source="numerical setting; 0.125 mm keeps a 10-year radius within "
        "1 % of the edge's travel (docs/radial.md)", low=0.005, high=1.0)
    radial_room: float = param(
        4.0, "mm", "White matter beyond the largest radial seed (the ball's no-flux wall must stay out of the "
        "mediator's reach; docs/radial.md)", low=0.5, high=100.0)
    radial_batch: int = param(256, "-", "Most radial runs advanced together in one batch", low=1, high=100000)
    output_interval: float = param(0.25, "yr", "Interval of the stored lesion courses", low=0.01, high=1.0)
    course_resolution: float = param(
        0.5, "yr", "New lesions see the arm's occupancy course from their formation time rounded down to "
        "this (cache reuse)", source="numerical setting", low=0.01, high=10.0)
    age_resolution: float = param(
        1.0, "yr", "Baseline ages of radial lesions are rounded to this (each age of a treated arm's lesions is "
        "its own run: untreated until randomisation, the arm's course after)", source="numerical setting",
        low=0.05, high=100.0)
    section_age_resolution: float = param(
        5.0, "yr", "Baseline ages of lesions in section runs are rounded to this (a 14-year 2D section run cost "
        "~100 batched radial ones, docs/patients.md)", source="numerical setting", low=0.05, high=100.0)
    ranks_per_run: int = param(1, "-", "Ranks per section run (MPI groups of this size share the runs)",
                               low=1, high=4096)


    def age_step(self, location: str) -> float:
        """Rounding of baseline lesion ages at ``location`` (radial runs are cheap, section runs are not)."""
        radial = self.model == "radial" and location == LOCATIONS[0]
        return self.age_resolution if radial else self.section_age_resolution


class SectionLibrary(CachedRuns):
    """``LesionTrajectories`` from 2D section runs cached in an HDF5 file."""

    def __init__(self, settings: LibrarySettings, base_model: dict, draws: ParameterDraws, horizon: float,
                 cache_path: str | Path, cortex_horizon: float | None = None):
        """``horizon``: the lesion courses' length (follow-up plus the oldest baseline lesion's age);
        ``cortex_horizon``: the cortex runs' (the follow-up; default ``horizon``)."""
        super().__init__(cache_path)
        self.settings, self.base_model, self.draws = settings, base_model, draws
        self.horizon = float(np.ceil(horizon - 1e-9))  # whole years: designs of similar length share runs
        self.cortex_horizon = float(np.ceil((horizon if cortex_horizon is None else cortex_horizon) - 1e-9))
        self.radii = np.array(sorted(settings.radii), float)
        self._keys: dict[tuple, str] = {}       # (class, radius) or (cortex class,) -> entry key
        self._grids: dict[LesionClass, RadiusGrid] = {}
        for location in LOCATIONS:  # every grid radius must fit its section before anything runs
            for radius in self.radii:
                self.lesion_config(LesionClass(location, True, OccupancyCourse(), 0), radius)

    # -- configs and keys -------------------------------------------------------------------------
    def _raw(self, draw: int, end: float | None = None) -> dict:
        raw = copy.deepcopy(self.base_model)
        for key, value in self.draws.overrides(draw).items():
            set_dotted(raw, key, value)
        s = self.settings
        raw.setdefault("time", {}).update(end=end or self.horizon, output_interval=s.output_interval)
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
        raw = self._raw(kind.draw, self.cortex_horizon)
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
        return self.ensure_wanted(self._wanted(lesions, cortices), comm)

    def _build(self, missing: list[str], wanted: dict, comm) -> tuple[str, ...]:
        """Solve the missing runs; returns the tags of this build's part files."""
        import time

        from rimmodel.solver.time_loop import SolverFailure
        from rimmodel.study.scheduler import NEXT, SharedCounters, split_into_groups

        group_comm, group, _ = split_into_groups(comm, self.settings.ranks_per_run)
        leader = group_comm.rank == 0
        tag = group_comm.bcast(writer_tag(f"{group:04d}") if leader else None, root=0)
        part = self.part_file(tag)
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
    def _lesion_key(self, kind: LesionClass, radius: float) -> str:
        if (kind, radius) not in self._keys:
            self._keys[(kind, radius)] = self.key(self.lesion_config(kind, radius))
        return self._keys[(kind, radius)]

    def _cortex_key(self, kind: CortexClass) -> str:
        if (kind,) not in self._keys:
            self._keys[(kind,)] = self.key(self.cortex_config(kind))
        return self._keys[(kind,)]

    def grid(self, kind: LesionClass) -> RadiusGrid:
        if kind not in self._grids:
            runs = [self.entry(self._lesion_key(kind, radius)) for radius in self.radii]
            self._grids[kind] = RadiusGrid.from_runs(runs, f"lesion library {self.path}")
        return self._grids[kind]

    def lesions(self, kind: LesionClass, radius: np.ndarray, times: np.ndarray, age=0.0) -> LesionCourses:
        times, age = self._check_times(times), np.asarray(age, float)
        self._check_times(times + (age.max() if age.size else 0.0))
        return self.grid(kind).courses(radius, times, age)

    def cortex(self, kind: CortexClass, times: np.ndarray) -> CortexCourse:
        times = check_times(times, self.cortex_horizon)
        entry = self.entry(self._cortex_key(kind))
        axons = np.interp(times, entry.time, entry.series["cortical_axon_loss"])
        tissue = entry.series["cortical_parenchymal_volume"]
        tissue_loss = np.interp(times, entry.time, tissue[0] - tissue)
        return CortexCourse((axons - entry.series["cortical_axon_loss"][0]) / FOLLICLE_PATCH_LENGTH,
                            tissue_loss / FOLLICLE_PATCH_LENGTH)

    def _check_times(self, times: np.ndarray) -> np.ndarray:
        return check_times(times, self.horizon)


def check_times(times: np.ndarray, horizon: float) -> np.ndarray:
    times = np.asarray(times, float)
    if times.size and (times.min() < -1e-9 or times.max() > horizon + 1e-9):
        raise ValueError(f"lesion courses are stored for 0 to {horizon:g} yr; asked for "
                         f"{times.min():g} to {times.max():g} yr")
    return np.clip(times, 0.0, horizon)


def _order(kind: LesionClass):
    return (kind.location, kind.rim, kind.course.label(), kind.draw)


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
