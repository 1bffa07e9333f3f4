"""The coordinate system a Domain's mesh is written in, and the volume element it implies.

A cartesian mesh is the tissue itself. A reduced mesh stands for a 3D body of revolution:

* ``spherical``: a 1D mesh in r (x[0] = r >= 0) stands for a ball, dV = 4 pi r^2 dr;
* ``axisymmetric``: a 2D mesh in (r, z) (x[0] = r >= 0) stands for a body of revolution
  about the z axis, dV = 2 pi r dr dz.

Every integral over a reduced mesh carries the volume element, so the weak form of the
cartesian model, unchanged, is the model of the 3D body (the divergence in spherical or
cylindrical coordinates comes out of the weighted integration by parts), and every
integrated observable is a 3D volume.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ufl

CARTESIAN, SPHERICAL, AXISYMMETRIC = "cartesian", "spherical", "axisymmetric"
COORDINATE_KINDS = (CARTESIAN, SPHERICAL, AXISYMMETRIC)


@dataclass(frozen=True)
class Coordinates:
    """``origin``: where r = 0 lies along x[0]; None for 0, or a DG0 function when one mesh holds
    several disjoint radial parts, each with its own origin (rimmodel.batch)."""

    kind: str = CARTESIAN
    origin: object = None

    def __post_init__(self):
        if self.kind not in COORDINATE_KINDS:
            raise ValueError(f"coordinate system {self.kind!r}: allowed {COORDINATE_KINDS}")

    @property
    def reduced(self) -> bool:
        return self.kind != CARTESIAN

    def radial_coordinate(self, mesh):
        x = ufl.SpatialCoordinate(mesh)
        return x[0] if self.origin is None else x[0] - self.origin

    def volume_element(self, mesh):
        """dV / (dr ...) as a UFL expression; None for cartesian meshes (dV is the mesh's own)."""
        if self.kind == SPHERICAL:
            return 4.0 * math.pi * self.radial_coordinate(mesh) ** 2
        if self.kind == AXISYMMETRIC:
            return 2.0 * math.pi * self.radial_coordinate(mesh)
        return None

    def volume_dimension(self, topological_dimension: int) -> int:
        """The dimension of the body the mesh stands for: sizes are mm^this."""
        return 3 if self.reduced else topological_dimension
