"""Make the field file self-describing and readable by XDMF readers other than DOLFINx's.

Called after every field output (``FieldWriter.write``), on rank 0 once the collective
write has closed the files:

- DOLFINx writes the XInclude namespace as ``https://www.w3.org/2001/XInclude``; the
  W3C name is ``http://...``, and XInclude processors (libxml2 in VTK's and ParaView's
  XDMF readers, lxml) expand ``xi:include`` only under that name. Without it VTK 9.7's
  XDMF reader finds time grids with no mesh and crashes. The namespace is corrected here.
- DOLFINx's float DataItems carry no ``Precision``, which XDMF defines as 4 bytes: readers
  then cast the float64 data to float32. ``Precision="8"`` is added where the data are float64.
- ``fields.h5`` gets HDF5 attributes: each field dataset its ``time`` (yr, a float, so no
  one parses the group name ``0_5``), ``units`` and ``description``; the mesh geometry its
  unit (mm); the cell tags their meaning.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import h5py

from rimmodel.io.field_series import field_datasets
from rimmodel.io.field_units import field_units

XINCLUDE_NAMESPACE = "http://www.w3.org/2001/XInclude"
_WRONG_XINCLUDE_NAMESPACE = "https://www.w3.org/2001/XInclude"
MESH_GEOMETRY = "Mesh/mesh/geometry"
CELL_TAGS = "MeshTags/mesh_tags/Values"
TISSUE_TAGS = "1 white matter, 2 cortex"


def annotate_field_file(xdmf: Path, comm=None) -> None:
    """Fix the namespace and add attributes; collective over ``comm`` if given."""
    if comm is None or comm.rank == 0:
        repair_xdmf(xdmf)
        add_attributes(xdmf)
    if comm is not None:
        comm.barrier()  # the next collective write must see the finished file


_HDF_ITEM = re.compile(r'<DataItem ([^>]*)Format="HDF">([^<:]+):([^<]+)</DataItem>')


def repair_xdmf(xdmf: Path) -> None:
    """The W3C XInclude namespace, and the precision of float64 data; rewritten atomically."""
    xdmf = Path(xdmf)
    text = xdmf.read_text()
    repaired = _HDF_ITEM.sub(_DoublePrecision(xdmf.parent), text.replace(_WRONG_XINCLUDE_NAMESPACE,
                                                                        XINCLUDE_NAMESPACE))
    if repaired != text:
        scratch = xdmf.with_name(xdmf.name + ".partial")
        scratch.write_text(repaired)
        os.replace(scratch, xdmf)


class _DoublePrecision:
    """Adds Precision="8" to a float DataItem (no NumberType: XDMF's default Float) holding float64."""

    def __init__(self, directory: Path):
        self.directory, self.files = directory, {}

    def __call__(self, match: re.Match) -> str:
        attributes, h5_name, dataset = match.groups()
        if "NumberType" in attributes or "Precision" in attributes:
            return match.group(0)
        if h5_name not in self.files:
            with h5py.File(self.directory / h5_name, "r", locking=False) as h5:
                self.files[h5_name] = {name: obj.dtype.str[1:] for name, obj in _datasets(h5)}
        if self.files[h5_name].get(dataset.strip().lstrip("/")) != "f8":
            return match.group(0)
        return f'<DataItem {attributes}Precision="8" Format="HDF">{h5_name}:{dataset}</DataItem>'


def _datasets(h5: h5py.File):
    found = []
    h5.visititems(lambda name, obj: found.append((name, obj)) if isinstance(obj, h5py.Dataset) else None)
    return found


def add_attributes(xdmf: Path) -> None:
    """Attributes on every field dataset that lacks them (earlier outputs keep theirs).

    Reads only the XDMF's list of datasets, never the mesh: this runs after every output."""
    run_dir = Path(xdmf).parent
    units = field_units(run_dir)
    # no HDF5 file lock, like the field writer: a live reader holding the file must not stop the run
    with h5py.File(Path(xdmf).with_suffix(".h5"), "r+", locking=False) as h5:
        if MESH_GEOMETRY in h5 and "units" not in h5[MESH_GEOMETRY].attrs:
            h5[MESH_GEOMETRY].attrs["units"] = "mm"
        if CELL_TAGS in h5 and "description" not in h5[CELL_TAGS].attrs:
            h5[CELL_TAGS].attrs["description"] = f"tissue tag per cell: {TISSUE_TAGS}"
        for name, series in field_datasets(run_dir).items():
            about = units.get(name, {"unit": "", "description": ""})
            for t, path in series.items():
                dataset = h5[path]
                if "time" in dataset.attrs:
                    continue
                dataset.attrs["time"] = float(t)
                dataset.attrs["time_units"] = "yr"
                dataset.attrs["units"] = about["unit"]
                dataset.attrs["description"] = about["description"]
