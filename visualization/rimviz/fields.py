"""Read the fields a run wrote (XDMF + HDF5) with h5py alone."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

FIELDS_XDMF = "fields.xdmf"


@dataclass
class FieldSeries:
    """Mesh and nodal (P1) field values at every output time."""

    points: np.ndarray          # (n_points, 3) mm
    cells: np.ndarray           # (n_cells, vertices_per_cell)
    cell_type: str              # "triangle" or "tetrahedron"
    times: np.ndarray           # (n_times,) yr
    _paths: dict                # field -> [dataset path per time]
    _h5: Path

    @property
    def names(self) -> list[str]:
        return list(self._paths)

    def values(self, name: str, index: int) -> np.ndarray:
        if name not in self._paths:
            raise KeyError(f"no field {name!r}; the run has {', '.join(self._paths)}")
        with h5py.File(self._h5, "r") as h5:
            return h5[self._paths[name][index]][()].ravel()

    def index_at(self, t: float) -> int:
        return int(np.argmin(np.abs(self.times - t)))


def read_fields(run_dir: str | Path) -> FieldSeries:
    xdmf = Path(run_dir) / FIELDS_XDMF
    if not Path(run_dir).is_dir():
        raise FileNotFoundError(f"no run directory {run_dir}")
    if not xdmf.is_file():
        raise FileNotFoundError(f"{run_dir} has no {FIELDS_XDMF} (was output.fields false?)")
    root = ET.parse(xdmf).getroot()
    times: dict[str, list[float]] = {}
    paths: dict[str, list[str]] = {}
    for collection in root.iter("Grid"):
        if collection.get("CollectionType") != "Temporal":
            continue
        name = collection.get("Name")
        for grid in collection.findall("Grid"):
            times.setdefault(name, []).append(float(grid.find("Time").get("Value")))
            item = grid.find("Attribute/DataItem")
            paths.setdefault(name, []).append(item.text.strip().split(":", 1)[1])
    if not times:
        raise ValueError(f"{xdmf} holds no time series")
    first = next(iter(times.values()))
    count = min(len(t) for t in times.values())  # a run stopped mid-output may lack the last field
    h5_path = xdmf.with_suffix(".h5")
    mesh_grid = next(g for g in root.iter("Grid") if g.find("Topology") is not None)
    topology = mesh_grid.find("Topology")
    with h5py.File(h5_path, "r") as h5:
        cells = h5[topology.find("DataItem").text.strip().split(":", 1)[1]][()]
        points = h5[mesh_grid.find("Geometry/DataItem").text.strip().split(":", 1)[1]][()]
    if points.shape[1] == 2:
        points = np.column_stack([points, np.zeros(len(points))])
    cell_type = topology.get("TopologyType").lower()
    return FieldSeries(points, cells, cell_type, np.array(first[:count]),
                       {name: p[:count] for name, p in paths.items()}, h5_path)
