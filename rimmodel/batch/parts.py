"""One 1D mesh holding many radial lesions as disjoint intervals ("parts").

Part k covers [k (R + gap), k (R + gap) + R]. Parts share no vertex, so no basis
function straddles two parts and the assembled system is block diagonal: the parts
are independent problems solved by one Newton iteration, one assembly and one
factorisation per step. The spherical coordinate of a point of part k is
r = x - k (R + gap) (a DG0 ``origin`` in the Domain's coordinates), so every part
carries its own r^2 weight and the equations do not know they are batched.
"""

from __future__ import annotations

import math

import basix.ufl
import numpy as np
import ufl

from rimmodel.fem import fem, mesh as dmesh
from rimmodel.geometry.coordinates import SPHERICAL, Coordinates
from rimmodel.geometry.domain import OUTER, Domain
from rimmodel.geometry.radial import white_matter_tags


class RadialParts:
    """The mesh, ``part_of_cell`` (local cells, owned then ghost) and ``part_of_point(x)``."""

    def __init__(self, comm, parts: int, outer_radius: float, mesh_size: float):
        self.parts, self.outer_radius = parts, outer_radius
        cells_per_part = max(math.ceil(outer_radius / mesh_size), 1)
        self.spacing = outer_radius + outer_radius / cells_per_part  # gap of one cell: no shared vertex
        msh = _disjoint_intervals(comm, parts, cells_per_part, outer_radius, self.spacing)
        tdim = msh.topology.dim
        local = msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts
        midpoints = dmesh.compute_midpoints(msh, tdim, np.arange(local, dtype=np.int32))[:, 0]
        self.part_of_cell = self.part_of_point(midpoints)
        self.owned_cells = msh.topology.index_map(tdim).size_local
        self.cell_space = fem.functionspace(msh, ("DG", 0))
        origin = self.per_part_field(self.spacing * np.arange(parts), name="part_origin")
        outer = dmesh.locate_entities_boundary(
            msh, 0, lambda x: np.isclose(x[0] - self.spacing * self.part_of_point(x[0]), outer_radius))
        facets = dmesh.meshtags(msh, 0, outer.astype(np.int32), np.full(outer.size, OUTER, np.int32))
        self.domain = Domain(msh, white_matter_tags(msh), facets, "radial_parts",
                             lambda depth, horizontal: (0.0,), Coordinates(SPHERICAL, origin=origin))

    def part_of_point(self, x: np.ndarray) -> np.ndarray:
        """Part index of points on the mesh (x along the line)."""
        return np.floor((np.asarray(x) + 0.5 * (self.spacing - self.outer_radius)) / self.spacing).astype(int)

    def radius_of_point(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x) - self.spacing * self.part_of_point(x)

    def per_part_field(self, values, name: str = "per_part", field: fem.Function | None = None) -> fem.Function:
        """A DG0 function equal to ``values[k]`` on part k (filled into ``field`` if given)."""
        field = field if field is not None else fem.Function(self.cell_space, name=name)
        cell_dofs = self.cell_space.dofmap.list[:, 0]
        field.x.array[cell_dofs] = np.asarray(values, dtype=float)[self.part_of_cell]
        return field


def _disjoint_intervals(comm, parts: int, cells: int, outer_radius: float, spacing: float) -> dmesh.Mesh:
    """Built on rank 0 and distributed by DOLFINx's partitioner."""
    element = ufl.Mesh(basix.ufl.element("Lagrange", "interval", 1, shape=(1,)))
    if comm.rank == 0:
        line = np.linspace(0.0, outer_radius, cells + 1)
        x = (spacing * np.arange(parts)[:, None] + line[None, :]).reshape(-1, 1)
        first = (cells + 1) * np.arange(parts)[:, None] + np.arange(cells)[None, :]
        topology = np.stack([first.ravel(), first.ravel() + 1], axis=1).astype(np.int64)
    else:
        x, topology = np.zeros((0, 1)), np.zeros((0, 2), dtype=np.int64)
    return dmesh.create_mesh(comm, topology, element, x)
