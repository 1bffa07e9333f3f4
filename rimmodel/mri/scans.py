"""Synthetic scans of a run: sample the FEM fields on the voxel grid with partial-volume averaging.

Each voxel's signal is the mean over k^d sub-points filling it (k = ``supersampling``),
each sub-point carrying the signal of the tissue state interpolated there (the tissue
fraction and iron too, when the run has those fields: ``rimmodel.mri.contrasts``); sub-points
outside the tissue carry the background's signal. Scans are taken at the run outputs
nearest to every ``scan_interval``. Radial (spherical) and axisymmetric runs are scanned in 3D,
each sub-point taking the run's values at its own r or (r, z) (``rimmodel.mri.revolution``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from rimmodel.io.field_series import read_fields
from rimmodel.mri.contrasts import (BACKGROUND, CONTRASTS, CORTEX, OPTIONAL_FIELDS, REQUIRED_FIELDS,
                                    WHITE_MATTER, phase_source, tissue_signals)
from rimmodel.mri.grid import VoxelGrid
from rimmodel.mri.locate import PointLocation, locate
from rimmodel.mri.parameters import MRIParameters
from rimmodel.mri.revolution import revolution_of

CELL_DIMENSION = {"triangle": 2, "tetrahedron": 3}


class Fields(Protocol):
    """What the scanner needs of a run: ``rimmodel.io.field_series.FieldSeries`` or a phantom."""

    points: np.ndarray
    cells: np.ndarray
    cell_type: str
    times: np.ndarray
    cell_tags: np.ndarray | None
    names: list[str]

    def values(self, name: str, index: int) -> np.ndarray: ...

    def index_at(self, t: float) -> int: ...


class WithoutFields:
    """A run's fields with some hidden, so the scanner reads the run as one without them: without
    ``tissue`` it reads T = 1 (no tissue loss), without ``iron`` the phase of activated microglia.
    Neither field feeds another equation, so hiding it gives exactly the same run without it."""

    def __init__(self, fields: Fields, *hidden: str):
        self._fields = fields
        self.names = [name for name in fields.names if name not in hidden]

    def __getattr__(self, name):
        return getattr(self._fields, name)


@dataclass
class ScanSeries:
    """Synthetic images of every contrast at the scan times."""

    grid: VoxelGrid
    times: np.ndarray                 # (n,) yr
    images: dict[str, np.ndarray]     # contrast -> (n, nx, ny, nz)
    tissue_fraction: np.ndarray       # (nx, ny, nz) fraction of each voxel inside the tissue
    params: MRIParameters
    source: str                       # the run directory (or a phantom's name)
    cortex_fraction: np.ndarray | None = None  # (nx, ny, nz) fraction of each voxel in cortex
    state_fields: tuple[str, ...] = REQUIRED_FIELDS  # the run's fields the contrasts were made from

    @property
    def phase_source(self) -> str:
        """"iron" (T * Fe) or "microglia" (runs without an iron field)."""
        return phase_source(self.state_fields)

    def __len__(self) -> int:
        return len(self.times)


def synthetic_scans(run: str | Path | Fields, params: MRIParameters | None = None) -> ScanSeries:
    """Scan a run directory (or any :class:`Fields`) with ``params`` (defaults if None)."""
    params = params or MRIParameters()
    fields = read_fields(run) if isinstance(run, (str, Path)) else run
    grid, location = _sampled(fields, params)
    tissue = _tissue_class(location, fields.cell_tags)
    indices = scan_indices(fields.times, params.scan_interval)
    state_fields = REQUIRED_FIELDS + tuple(name for name in OPTIONAL_FIELDS if name in fields.names)
    rng = np.random.default_rng(params.seed)
    images = {name: np.empty((len(indices), *grid.shape)) for name in CONTRASTS}
    for n, index in enumerate(indices):
        state = {name: location.interpolate(fields.values(name, index)) for name in state_fields}
        for name, signal in tissue_signals(tissue, state, params).items():
            image = _voxel_means(signal, grid)
            images[name][n] = image + rng.normal(0.0, params.noise, image.shape) if params.noise else image
    tissue_fraction = _voxel_means((tissue != BACKGROUND).astype(float), grid)
    cortex_fraction = _voxel_means((tissue == CORTEX).astype(float), grid)
    source = str(run) if isinstance(run, (str, Path)) else getattr(run, "name", type(run).__name__)
    return ScanSeries(grid, fields.times[indices], images, tissue_fraction, params, source, cortex_fraction,
                      state_fields)


def _sampled(fields: Fields, params: MRIParameters) -> tuple[VoxelGrid, PointLocation]:
    """The voxel grid over the tissue and where its sub-points sit in the run's mesh."""
    revolution = revolution_of(fields)
    if revolution is None:
        lower, upper, dimension = fields.points.min(axis=0), fields.points.max(axis=0), CELL_DIMENSION[fields.cell_type]
    else:
        (lower, upper), dimension = revolution.covering_box(fields.points), 3
    grid = VoxelGrid.covering(lower, upper, dimension, params.voxel_size, params.slice_thickness,
                              params.margin_voxels)
    points = grid.subpoints(params.supersampling).reshape(-1, 3)
    if revolution is not None:
        points = revolution.run_coordinates(points)
    return grid, locate(points, fields.points, fields.cells)


def scan_indices(times: np.ndarray, interval: float) -> np.ndarray:
    """Output indices nearest to t0, t0 + interval, ...; every output when ``interval`` is 0."""
    if interval == 0 or len(times) < 2:
        return np.arange(len(times))
    wanted = np.arange(times[0], times[-1] + 1e-9 * max(1.0, abs(times[-1])), interval)  # within the run
    nearest = np.abs(times[None, :] - wanted[:, None]).argmin(axis=1)
    return np.array(sorted(set(nearest.tolist())))


def _tissue_class(location: PointLocation, cell_tags: np.ndarray | None) -> np.ndarray:
    """Tissue class of each sample point: the cell's tag (1 white matter, 2 cortex), 0 outside."""
    if cell_tags is None:  # untagged mesh: all white matter
        return np.where(location.inside, WHITE_MATTER, BACKGROUND)
    return np.where(location.inside, cell_tags[np.maximum(location.cell, 0)], BACKGROUND)


def _voxel_means(values: np.ndarray, grid: VoxelGrid) -> np.ndarray:
    """Average the sub-point values of each voxel: (size * k^d,) -> grid.shape."""
    return values.reshape(grid.size, -1).mean(axis=1).reshape(grid.shape)
