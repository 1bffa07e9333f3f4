"""Fields over time as XDMF + HDF5: ParaView opens it, and h5py reads it without dolfinx.

XDMF (not VTX/ADIOS2) because its heavy data is plain HDF5 (``/Mesh/mesh/geometry``,
``/Mesh/mesh/topology``, ``/Function/<field>/<time>``), which the laptop-side
viewer reads with h5py alone. Higher-degree fields are interpolated to P1 for output.

The file is open only while an output is written: an HDF5 file left open when a
job is killed (Slurm wall time, node failure) loses its superblock and with it
every earlier output.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py

from rimmodel.fem import fem, io
from rimmodel.io.field_annotation import annotate_field_file
from rimmodel.solver.discretisation import Discretisation


class FieldWriter:
    def __init__(self, path: Path, disc: Discretisation, append: bool = False):
        self.disc, self.path = disc, Path(path)
        msh = disc.domain.mesh
        output_space = fem.functionspace(msh, ("Lagrange", 1))
        self.outputs = [fem.Function(output_space, name=name) for name in disc.fields.names]
        self.same_space = disc.scalar_space.element.basix_element.degree == 1
        self.component = fem.Function(disc.scalar_space)
        if append and _readable(self.path, msh.comm):
            return  # a resumed run adds time steps to the mesh already in the file
        with io.XDMFFile(msh.comm, str(self.path), "w") as file:
            file.write_mesh(msh)
            msh.topology.create_connectivity(msh.topology.dim - 1, msh.topology.dim)
            file.write_meshtags(disc.domain.cell_tags, msh.geometry)

    def write(self, state: fem.Function, t: float) -> None:
        with io.XDMFFile(self.disc.domain.mesh.comm, str(self.path), "a") as file:
            for i, output in enumerate(self.outputs):
                values = state.x.array[self.disc.component_dofs[i]]
                if self.same_space:
                    output.x.array[:] = values
                else:
                    self.component.x.array[:] = values
                    output.interpolate(self.component)
                file.write_function(output, t)
        annotate_field_file(self.path, self.disc.domain.mesh.comm)  # units, times; XInclude namespace for VTK


def _readable(xdmf: Path, comm) -> bool:
    """Whether the field file survived; a damaged one is moved aside (never deleted) and a new
    one started, so a resumed run still writes its remaining outputs."""
    heavy = xdmf.with_suffix(".h5")
    ok = None
    if comm.rank == 0:
        try:
            with h5py.File(heavy, "r", locking=False):
                ok = xdmf.is_file()
        except OSError:
            ok = False
        if not ok:
            for path in (xdmf, heavy):
                if path.exists():
                    os.replace(path, path.with_name(path.stem + ".damaged" + path.suffix))
            print(f"rimmodel: {heavy} was damaged by the interruption; kept as *.damaged.*, "
                  f"fields restart at the resume time", flush=True)
    return comm.bcast(ok, root=0)
