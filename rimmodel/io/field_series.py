"""Read the fields a run wrote (XDMF + HDF5) with h5py alone.

Lives in the results layer, next to ``results.py``, so that anything reading run
directories (the visualisation package, the synthetic MRI) needs numpy and h5py
only, never the FEM stack.

A live run rewrites both files at every output, so a reader may meet a step half-written:
the XDMF cut short, or naming datasets the HDF5 file does not show yet. Steps whose
datasets are not all there are left out (the series ends at the last complete output);
while the run says ``running``, a file that cannot be read is retried for ``LIVE_RETRY_S``
before the error, which then says the run is still writing.
"""

from __future__ import annotations

import time
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from rimmodel.io.results import read_status, stale_reason
from rimmodel.io.unreadable import UnreadableFile, hdf5_file, reading

FIELDS_XDMF = "fields.xdmf"
RUN_CONFIG = "config.toml"
# geometry kinds whose fields are those of a 3D lesion by symmetry (docs/radial.md): a 1D mesh in
# r (the centre at r = 0) and a 2D mesh in (r, z) about the axis r = 0
SPHERICAL, AXISYMMETRIC = "spherical_lesion", "axisymmetric_lesion"
LIVE_RETRY_S = 3.0     # a field output takes well under a second on the meshes a laptop renders (assumed)
_RETRY_PAUSE_S = 0.1
_CELL_TAGS_GROUP = "MeshTags/mesh_tags"  # where DOLFINx's XDMFFile.write_meshtags puts the tissue tags


@dataclass
class FieldSeries:
    """Mesh and nodal (P1) field values at every output time."""

    points: np.ndarray          # (n_points, 3) mm
    cells: np.ndarray           # (n_cells, vertices_per_cell)
    cell_type: str              # "triangle" or "tetrahedron"; "polyline" for a spherical (radial) run
    times: np.ndarray           # (n_times,) yr
    _paths: dict                # field -> [dataset path per time]
    _h5: Path
    cell_tags: np.ndarray | None = None  # (n_cells,) tissue tag per cell (1 white matter, 2 cortex), if written
    # the run's geometry.kind (config.toml); the mesh alone does not tell an axisymmetric (r, z) run
    # from a 2D section. None when the run directory has no config.toml
    geometry_kind: str | None = None

    @property
    def names(self) -> list[str]:
        return list(self._paths)

    def values(self, name: str, index: int) -> np.ndarray:
        if name not in self._paths:
            raise KeyError(f"no field {name!r}; the run has {', '.join(self._paths)}")
        return _retried_while_live(self._h5.parent, lambda: self._read_values(name, index))

    def _read_values(self, name: str, index: int) -> np.ndarray:
        with hdf5_file(self._h5, "field data") as h5:
            return h5[self._paths[name][index]][()].ravel()

    def index_at(self, t: float) -> int:
        return int(np.argmin(np.abs(self.times - t)))

    def dataset_path(self, name: str, index: int) -> str:
        """Where field ``name`` at output ``index`` lives inside the HDF5 file."""
        return self._paths[name][index]


def read_fields(run_dir: str | Path) -> FieldSeries:
    xdmf = Path(run_dir) / FIELDS_XDMF
    if not Path(run_dir).is_dir():
        raise FileNotFoundError(f"no run directory {run_dir}")
    if not xdmf.is_file():
        raise FileNotFoundError(f"{run_dir} has no {FIELDS_XDMF} (was output.fields false?)")
    finished = read_status(run_dir).get("status") == "completed"
    return _retried_while_live(Path(run_dir), lambda: _read_complete_steps(xdmf, finished))


def _read_complete_steps(xdmf: Path, finished: bool) -> FieldSeries:
    with reading(xdmf, "field index (XDMF)"):
        root = ET.parse(xdmf).getroot()
        series = _series_paths(root, xdmf)
    h5_path = xdmf.with_suffix(".h5")
    with hdf5_file(h5_path, "field data") as h5:
        fields = _read_series(root, _complete_steps(series, h5, h5_path, finished), h5, h5_path)
    fields.geometry_kind = read_geometry_kind(xdmf.parent)
    return fields


def symmetry_of(fields) -> str | None:
    """SPHERICAL, AXISYMMETRIC or None (a section or a 3D run) for a FieldSeries or any object like it.
    A 1D (polyline) mesh is always a spherical run; a triangle mesh is axisymmetric only if the run
    says so in its config."""
    kind = getattr(fields, "geometry_kind", None)
    if fields.cell_type == "polyline" or kind == SPHERICAL:
        return SPHERICAL
    return AXISYMMETRIC if kind == AXISYMMETRIC else None


def read_geometry_kind(run_dir: str | Path) -> str | None:
    """``geometry.kind`` of the run's config.toml (parsed as data only), or None without one."""
    path = Path(run_dir) / RUN_CONFIG
    if not path.is_file():
        return None
    with reading(path, "run configuration (TOML)"):
        kind = tomllib.loads(path.read_text()).get("geometry", {}).get("kind")
    return kind if isinstance(kind, str) else None


def _complete_steps(series: tuple[list[float], dict], h5: h5py.File, h5_path: Path,
                    finished: bool) -> tuple[list[float], dict]:
    """The outputs up to the first whose datasets are not all in ``h5``: one being written, or cut
    short by a kill. In a completed run every output must be there: a missing one is damage."""
    times, paths = series
    count = 0
    while count < len(times) and all(p[count].lstrip("/") in h5 for p in paths.values()):
        count += 1
    if count < len(times) and (finished or count == 0):
        lacking = ", ".join(p[count] for p in paths.values() if p[count].lstrip("/") not in h5)
        raise UnreadableFile(f"{h5_path}: lacks {lacking} at t = {times[count]:g} yr, which "
                             f"{h5_path.with_suffix('.xdmf').name} lists" + ("" if finished else
                                                                              " (no complete output yet)"))
    return times[:count], {name: p[:count] for name, p in paths.items()}


def _retried_while_live(run_dir: Path, read):
    """``read()``; while the run says it is running, retried for LIVE_RETRY_S when a file is caught
    mid-write. The error then says so (a finished run's damage is reported at once)."""
    deadline = time.monotonic() + LIVE_RETRY_S
    while True:
        try:
            return read()
        except UnreadableFile as problem:
            if not _being_written(run_dir):
                raise
            if time.monotonic() >= deadline:
                raise UnreadableFile(f"{problem}; the run in {run_dir} is still writing its fields: "
                                     f"try again after its next output") from None
        time.sleep(_RETRY_PAUSE_S)


def _being_written(run_dir: Path) -> bool:
    status = read_status(run_dir)
    return status.get("status") == "running" and not stale_reason(status)


def _series_paths(root, xdmf: Path) -> tuple[list[float], dict]:
    """Output times and, per field, its dataset at each time."""
    by_time = _time_series(root)
    if not by_time:
        raise ValueError(f"{xdmf} holds no time series")
    times = {name: sorted(series) for name, series in by_time.items()}
    paths = {name: [by_time[name][t] for t in times[name]] for name in by_time}
    first = next(iter(times.values()))
    count = min(len(t) for t in times.values())  # a run stopped mid-output may lack the last field
    return first[:count], {name: p[:count] for name, p in paths.items()}


def _read_series(root, series: tuple[list[float], dict], h5: h5py.File, h5_path: Path) -> FieldSeries:
    times, paths = series
    mesh_grid = next(g for g in root.iter("Grid") if g.find("Topology") is not None)
    topology = mesh_grid.find("Topology")
    cells = h5[topology.find("DataItem").text.strip().split(":", 1)[1]][()]
    points = h5[mesh_grid.find("Geometry/DataItem").text.strip().split(":", 1)[1]][()]
    cell_tags = _read_cell_tags(h5, cells)
    if points.shape[1] == 2:
        points = np.column_stack([points, np.zeros(len(points))])
    cell_type = topology.get("TopologyType").lower()
    return FieldSeries(points, cells, cell_type, np.array(times, dtype=float), paths, h5_path, cell_tags)


def field_datasets(run_dir: str | Path) -> dict[str, dict[float, str]]:
    """field -> {time (yr): dataset path in fields.h5}, from the XDMF alone (no mesh is read)."""
    return _time_series(ET.parse(Path(run_dir) / FIELDS_XDMF).getroot())


def _time_series(root: ET.Element) -> dict[str, dict[float, str]]:
    by_time: dict[str, dict[float, str]] = {}
    for collection in root.iter("Grid"):
        if collection.get("CollectionType") != "Temporal":
            continue
        name = collection.get("Name")
        for grid in collection.findall("Grid"):
            item = grid.find("Attribute/DataItem")
            # a run resumed from a checkpoint may write an output time again: the later entry wins
            by_time.setdefault(name, {})[float(grid.find("Time").get("Value"))] = item.text.strip().split(":", 1)[1]
    return by_time


def _read_cell_tags(h5: h5py.File, cells: np.ndarray) -> np.ndarray | None:
    """The tissue tag of each mesh cell, or None if the run wrote no tags.

    The tags are stored with their own cell list, which a parallel writer need not
    order like the mesh topology: match cells by their (sorted) vertex sets.
    """
    if _CELL_TAGS_GROUP not in h5:
        return None
    tagged = h5[f"{_CELL_TAGS_GROUP}/topology"][()]
    values = h5[f"{_CELL_TAGS_GROUP}/Values"][()].ravel()
    if tagged.shape == cells.shape and np.array_equal(tagged, cells):
        return values
    tags = np.zeros(len(cells), dtype=values.dtype)  # 0: untagged
    mesh_keys, tag_keys = _vertex_set_keys(cells), _vertex_set_keys(tagged)
    order = np.argsort(tag_keys)
    position = np.clip(np.searchsorted(tag_keys, mesh_keys, sorter=order), 0, len(order) - 1)
    found = tag_keys[order[position]] == mesh_keys
    tags[found] = values[order[position[found]]]
    return tags


def _vertex_set_keys(cells: np.ndarray) -> np.ndarray:
    """One comparable key per cell, independent of the order of its vertices."""
    rows = np.ascontiguousarray(np.sort(cells, axis=1).astype(np.int64))
    return rows.view([("", np.int64)] * rows.shape[1]).ravel()
