"""Fields over time as XDMF + HDF5: ParaView opens it, and h5py reads it without dolfinx.

XDMF (not VTX/ADIOS2) because its heavy data is plain HDF5 (``/Mesh/mesh/geometry``,
``/Mesh/mesh/topology``, ``/Function/<field>/<time>``), which the laptop-side
viewer reads with h5py alone. Higher-degree fields are interpolated to P1 for output.
"""

from __future__ import annotations

from pathlib import Path

from rimmodel.fem import fem, io
from rimmodel.physics.equations import FIELDS
from rimmodel.solver.discretisation import Discretisation


class FieldWriter:
    def __init__(self, path: Path, disc: Discretisation):
        self.disc = disc
        msh = disc.domain.mesh
        output_space = fem.functionspace(msh, ("Lagrange", 1))
        self.outputs = [fem.Function(output_space, name=name) for name in FIELDS]
        self.same_space = disc.scalar_space.element.basix_element.degree == 1
        self.component = fem.Function(disc.scalar_space)
        self.file = io.XDMFFile(msh.comm, str(path), "w")
        self.file.write_mesh(msh)
        msh.topology.create_connectivity(msh.topology.dim - 1, msh.topology.dim)
        self.file.write_meshtags(disc.domain.cell_tags, msh.geometry)

    def write(self, state: fem.Function, t: float) -> None:
        for i, output in enumerate(self.outputs):
            values = state.x.array[self.disc.component_dofs[i]]
            if self.same_space:
                output.x.array[:] = values
            else:
                self.component.x.array[:] = values
                output.interpolate(self.component)
            self.file.write_function(output, t)

    def close(self) -> None:
        self.file.close()
