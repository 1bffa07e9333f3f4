"""``RadialTrajectories``: white-matter lesions as spherical lesions, batched, cached like sections.

An isolated white-matter lesion is a sphere in homogeneous white matter, which the radial model
(``geometry.kind = "spherical_lesion"``, docs/radial.md) solves on a 1D mesh with 3D volumes:
no cylinder curvature and no 2D-to-3D density mapping at the grid radii. Every missing run of
one ``ensure`` call is advanced in ``rimmodel.batch.RadialBatch``es (samples sharing geometry,
time and solver share one batch; the ranks split the runs and batch their share on their own).
Runs are cached in the same file and under the same key scheme as the section runs
(``cache.CachedRuns``). Juxtacortical and periventricular lesions touch the cortex or the
ventricle wall, where the spherical model is not valid, and the cortex has follicles: those stay
2D sections (``library.SectionLibrary``), which this class delegates to.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from rimmodel.config import ModelConfig
from rimmodel.patients.cache import CachedRuns, write_entry, writer_tag
from rimmodel.patients.draws import ParameterDraws
from rimmodel.patients.library import LibrarySettings, SectionLibrary, _config, _order, check_times
from rimmodel.patients.occupancy import OccupancyCourse
from rimmodel.patients.radius_grid import RadiusGrid
from rimmodel.patients.trajectories import (BuildReport, CortexClass, CortexCourse, LesionClass, LesionCourses)

RADIAL_LOCATION = "white_matter"


@dataclass
class _PartRecord:
    """One part of a batch, shaped like a run record for ``write_entry``."""

    time: np.ndarray
    series: dict[str, np.ndarray]
    dimension: int = 3


class RadialTrajectories(CachedRuns):
    """``LesionTrajectories``: radial runs for white matter, section runs for the rest and the cortex."""

    def __init__(self, settings: LibrarySettings, base_model: dict, draws: ParameterDraws, horizon: float,
                 cache_path: str | Path, cortex_horizon: float | None = None):
        super().__init__(cache_path)
        self.settings, self.draws = settings, draws
        self.sections = SectionLibrary(settings, base_model, draws, horizon, cache_path, cortex_horizon)
        self.horizon = self.sections.horizon
        self.radii = np.array(sorted(settings.radial_radii), float)
        self.outer_radius = float(self.radii[-1] + settings.radial_room)
        self._keys: dict[tuple, str] = {}
        self._grids: dict[LesionClass, RadiusGrid] = {}
        self.lesion_config(LesionClass(RADIAL_LOCATION, True, OccupancyCourse(), 0), self.radii[-1])  # valid?

    def lesion_config(self, kind: LesionClass, radius: float) -> ModelConfig:
        if kind.location != RADIAL_LOCATION:
            raise ValueError(f"the radial model holds white-matter lesions only, not {kind.location}")
        s = self.settings
        raw = self.sections._raw(kind.draw)
        raw["geometry"] = {"kind": "spherical_lesion", "outer_radius": self.outer_radius,
                           "mesh_size": s.radial_mesh_size}
        raw.setdefault("lesion", {})["radius"] = float(radius)
        if not kind.rim:
            raw["lesion"]["core_microglia"] = 0.0
        raw["btk"] = raw.get("btk", {}) | kind.course.btk_table()
        return _config(raw, f"lesion_library (radial white-matter lesion of radius {radius:g} mm)")

    def _wanted(self, lesions: Iterable[LesionClass]) -> dict:
        wanted = {}
        for kind in sorted(set(lesions), key=_order):
            for radius in self.radii:
                config = self.lesion_config(kind, radius)
                wanted[self.key(config)] = (config, {"kind": "lesion", "model": "radial", "location": kind.location,
                                                     "rim": kind.rim, "radius": float(radius),
                                                     "course": kind.course.label(), "draw": kind.draw})
        return wanted

    # -- building -----------------------------------------------------------------------------------
    def ensure(self, lesions: Iterable[LesionClass], cortices: Iterable[CortexClass], comm) -> BuildReport:
        lesions = list(lesions)
        radial = [kind for kind in lesions if kind.location == RADIAL_LOCATION]
        section = self.sections.ensure([kind for kind in lesions if kind.location != RADIAL_LOCATION], cortices,
                                       comm)
        own = self.ensure_wanted(self._wanted(radial), comm)
        return BuildReport(runs=section.runs + own.runs, cached=section.cached + own.cached,
                           wall_s=section.wall_s + own.wall_s,
                           by_model={"section": _summary(section), "radial": _summary(own)})

    def _build(self, missing: list[str], wanted: dict, comm) -> tuple[str, ...]:
        """Each rank batches every size-th missing run on its own; returns the part-file tags."""
        from rimmodel.batch.runner import SHARED_SECTIONS, RadialBatch
        from rimmodel.fem import MPI
        from rimmodel.solver.time_loop import SolverFailure

        tag = writer_tag(f"{comm.rank:04d}")
        shared: dict[str, list[str]] = {}
        for key in missing[comm.rank::comm.size]:
            config = wanted[key][0]
            shared.setdefault(repr([getattr(config, name) for name in SHARED_SECTIONS]), []).append(key)
        batches: dict[tuple, RadialBatch] = {}
        for group, keys in shared.items():
            for first in range(0, len(keys), self.settings.radial_batch):
                chunk = keys[first:first + self.settings.radial_batch]
                configs = [wanted[key][0] for key in chunk]
                began = time.perf_counter()
                batch = batches.get((group, len(chunk)))
                if batch is None:
                    batch = batches[(group, len(chunk))] = RadialBatch(configs, MPI.COMM_SELF)
                else:
                    batch.reconfigure(configs)
                try:
                    result = batch.run()
                except SolverFailure as failure:
                    described = [wanted[key][1] for key in chunk]
                    raise SolverFailure(failure.t, failure.dt, f"radial lesion batch of {len(chunk)} runs "
                                        f"(first {json.dumps(described[0])}): {failure.reason}") from None
                wall = (time.perf_counter() - began) / len(chunk)
                for k, key in enumerate(chunk):
                    record = _PartRecord(result.times, {name: values[k] for name, values in result.series.items()})
                    write_entry(self.part_file(tag), key, record, configs[k], wanted[key][1] | {"wall_s": wall})
        return tuple(sorted(set(comm.allgather(tag))))

    # -- queries ------------------------------------------------------------------------------------
    def grid(self, kind: LesionClass) -> RadiusGrid:
        if kind not in self._grids:
            runs = []
            for radius in self.radii:
                if (kind, radius) not in self._keys:
                    self._keys[(kind, radius)] = self.key(self.lesion_config(kind, radius))
                runs.append(self.entry(self._keys[(kind, radius)]))
            self._grids[kind] = RadiusGrid.from_runs(runs, f"lesion library {self.path}")
        return self._grids[kind]

    def lesions(self, kind: LesionClass, radius: np.ndarray, times: np.ndarray, age=0.0) -> LesionCourses:
        if kind.location != RADIAL_LOCATION:
            return self.sections.lesions(kind, radius, times, age)
        times, age = check_times(times, self.horizon), np.asarray(age, float)
        check_times(times + (age.max() if age.size else 0.0), self.horizon)
        return self.grid(kind).courses(radius, times, age)

    def cortex(self, kind: CortexClass, times: np.ndarray) -> CortexCourse:
        return self.sections.cortex(kind, times)


def _summary(report: BuildReport) -> dict:
    return {"runs": report.runs, "cached": report.cached, "wall_s": report.wall_s}
