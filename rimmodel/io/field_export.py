"""Write a run's fields in formats that VTK-based tools and meshio open: ``rimmodel export``.

Reads ``fields.xdmf`` + ``fields.h5`` with h5py (``rimmodel.io.field_series``): no FEM stack.

- ``vtkhdf``: one ``fields.vtkhdf`` file holding the mesh once and every field at every
  output time (VTKHDF 2.x, an UnstructuredGrid with a ``Steps`` group and a static mesh).
  ParaView >= 5.12 ("VTKHDF Reader") and pyvista (``pv.read``, vtkHDFReader) open it.
- ``vtu``: ``fields.pvd`` (a ParaView collection naming the time of each file) and one
  ``fields_vtu/fields_<k>.vtu`` per output time (VTK XML, binary). ParaView ("PVD
  Reader"), pyvista (``pv.read``/``PVDReader``) and meshio (each .vtu) open them.

Both carry every field as point data and the tissue tag (1 white matter, 2 cortex) as
cell data named ``tissue``. A radial (spherical) run's 1D mesh is written as VTK lines along x = r
(ParaView: Plot Over Line). Files are written under a temporary name and moved into place.
"""

from __future__ import annotations

import base64
import os
import shutil
from pathlib import Path
from xml.sax.saxutils import quoteattr

import h5py
import numpy as np

from rimmodel.io.field_series import FieldSeries, read_fields
from rimmodel.io.field_units import field_units

FORMATS = ("vtkhdf", "vtu")
VTKHDF_FILE = "fields.vtkhdf"
PVD_FILE = "fields.pvd"
VTU_DIR = "fields_vtu"
TISSUE = "tissue"
VTK_CELL_TYPES = {"polyline": 3, "triangle": 5, "quadrilateral": 9, "tetrahedron": 10, "hexahedron": 12}


def export_fields(run_dir: str | Path, fmt: str = "vtkhdf", out_dir: str | Path | None = None) -> Path:
    """Write the run's fields as ``fmt`` into ``out_dir`` (default: the run directory).

    Returns the file to open (``fields.vtkhdf`` or ``fields.pvd``).
    """
    if fmt not in FORMATS:
        raise ValueError(f"export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    series = read_fields(run_dir)
    if series.cell_type not in VTK_CELL_TYPES:
        raise ValueError(f"{run_dir}: cells of type {series.cell_type!r} cannot be exported; "
                         f"supported: {', '.join(VTK_CELL_TYPES)}")
    out = Path(out_dir) if out_dir is not None else Path(run_dir)
    out.mkdir(parents=True, exist_ok=True)
    units = field_units(run_dir)
    if fmt == "vtkhdf":
        return write_vtkhdf(series, units, out / VTKHDF_FILE)
    return write_vtu_series(series, out / PVD_FILE)


def write_vtkhdf(series: FieldSeries, units: dict[str, dict], path: Path) -> Path:
    """VTKHDF 2.2 transient UnstructuredGrid: one part, the mesh shared by every step."""
    n_points, n_cells, steps = len(series.points), len(series.cells), len(series.times)
    scratch = path.with_name(path.name + ".partial")
    with h5py.File(scratch, "w") as h5:
        root = h5.create_group("VTKHDF")
        root.attrs["Version"] = np.array([2, 2], dtype=np.int64)
        kind = "UnstructuredGrid"  # VTK wants a fixed-length ASCII string here
        root.attrs.create("Type", np.bytes_(kind), dtype=h5py.string_dtype("ascii", len(kind)))
        root["NumberOfPoints"] = np.array([n_points], dtype=np.int64)
        root["NumberOfCells"] = np.array([n_cells], dtype=np.int64)
        root["NumberOfConnectivityIds"] = np.array([series.cells.size], dtype=np.int64)
        root["Points"] = series.points.astype(np.float64)
        root["Points"].attrs["units"] = "mm"
        root["Connectivity"] = series.cells.ravel().astype(np.int64)
        root["Offsets"] = np.arange(n_cells + 1, dtype=np.int64) * series.cells.shape[1]
        root["Types"] = np.full(n_cells, VTK_CELL_TYPES[series.cell_type], dtype=np.uint8)
        point_data = root.create_group("PointData")
        for name in series.names:
            dataset = point_data.create_dataset(name, shape=(steps * n_points,), dtype=np.float64)
            for index in range(steps):  # one output at a time: a 3D run need not fit in memory twice
                dataset[index * n_points:(index + 1) * n_points] = series.values(name, index)
            about = units.get(name, {})
            dataset.attrs["units"] = about.get("unit", "")
            dataset.attrs["description"] = about.get("description", "")
        if series.cell_tags is not None:
            tags = root.create_group("CellData").create_dataset(TISSUE, data=series.cell_tags.astype(np.int32))
            tags.attrs["description"] = "1 white matter, 2 cortex"
        _write_steps(root, series, n_points)
    os.replace(scratch, path)
    return path


def _write_steps(root: h5py.Group, series: FieldSeries, n_points: int) -> None:
    """Every step reads the same mesh (offset 0) and its own slice of each point-data array."""
    steps = len(series.times)
    group = root.create_group("Steps")
    group.attrs["NSteps"] = steps
    group["Values"] = series.times.astype(np.float64)
    group["Values"].attrs["units"] = "yr"
    zeros = np.zeros(steps, dtype=np.int64)
    for name in ("PartOffsets", "PointOffsets", "CellOffsets", "ConnectivityIdOffsets"):
        group[name] = zeros
    group["NumberOfParts"] = np.ones(steps, dtype=np.int64)
    offsets = group.create_group("PointDataOffsets")
    for name in series.names:
        offsets[name] = np.arange(steps, dtype=np.int64) * n_points
    if series.cell_tags is not None:
        group.create_group("CellDataOffsets")[TISSUE] = zeros


def write_vtu_series(series: FieldSeries, pvd: Path) -> Path:
    """One binary .vtu per output time and the .pvd collection that times them."""
    directory = pvd.parent / VTU_DIR
    scratch = pvd.parent / (VTU_DIR + ".partial")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    entries = []
    for index, t in enumerate(series.times):
        name = f"fields_{index:06d}.vtu"
        (scratch / name).write_text(_vtu_document(series, index))
        entries.append(f'    <DataSet timestep="{float(t)!r}" part="0" file="{VTU_DIR}/{name}"/>')
    if directory.exists():
        shutil.rmtree(directory)
    os.replace(scratch, directory)
    text = ('<?xml version="1.0"?>\n<VTKFile type="Collection" version="1.0" byte_order="LittleEndian">\n'
            "  <Collection>\n" + "\n".join(entries) + "\n  </Collection>\n</VTKFile>\n")
    pvd_scratch = pvd.with_name(pvd.name + ".partial")
    pvd_scratch.write_text(text)
    os.replace(pvd_scratch, pvd)
    return pvd


def _vtu_document(series: FieldSeries, index: int) -> str:
    cells = series.cells
    point_arrays = "".join(_data_array(name, series.values(name, index).astype(np.float64)) for name in series.names)
    cell_arrays = _data_array(TISSUE, series.cell_tags.astype(np.int32)) if series.cell_tags is not None else ""
    time = np.array([series.times[index]], dtype=np.float64)
    return (
        '<?xml version="1.0"?>\n'
        '<VTKFile type="UnstructuredGrid" version="1.0" byte_order="LittleEndian" header_type="UInt64">\n'
        "<UnstructuredGrid>\n"
        f'<FieldData>{_data_array("TimeValue", time, tuples=1)}</FieldData>\n'
        f'<Piece NumberOfPoints="{len(series.points)}" NumberOfCells="{len(cells)}">\n'
        f"<PointData>{point_arrays}</PointData>\n"
        f"<CellData>{cell_arrays}</CellData>\n"
        f'<Points>{_data_array("Points", series.points.astype(np.float64), components=3)}</Points>\n'
        "<Cells>"
        + _data_array("connectivity", cells.ravel().astype(np.int64))
        + _data_array("offsets", np.arange(1, len(cells) + 1, dtype=np.int64) * cells.shape[1])
        + _data_array("types", np.full(len(cells), VTK_CELL_TYPES[series.cell_type], dtype=np.uint8))
        + "</Cells>\n</Piece>\n</UnstructuredGrid>\n</VTKFile>\n")


_VTK_TYPES = {"float64": "Float64", "int64": "Int64", "int32": "Int32", "uint8": "UInt8"}


def _data_array(name: str, values: np.ndarray, components: int = 1, tuples: int | None = None) -> str:
    """A binary DataArray: base64 of the UInt64 byte count, then base64 of the little-endian data."""
    data = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<"))
    raw = data.tobytes()
    encoded = (base64.b64encode(np.array([len(raw)], dtype="<u8").tobytes())
               + base64.b64encode(raw)).decode("ascii")
    extra = f' NumberOfComponents="{components}"' if components > 1 else ""
    extra += f' NumberOfTuples="{tuples}"' if tuples is not None else ""
    return (f'<DataArray type="{_VTK_TYPES[data.dtype.name]}" Name={quoteattr(name)}{extra} format="binary">'
            f"{encoded}</DataArray>")
