"""What every geometry hands the solver: a mesh, cell tags and facet tags."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rimmodel.fem import mesh as dmesh
from rimmodel.geometry.coordinates import Coordinates

# Cell tags
WHITE_MATTER = 1
CORTEX = 2
# Facet tags
PIAL = 1
VENTRICLE = 2
OUTER = 3

CELL_TAG_NAMES = {WHITE_MATTER: "white_matter", CORTEX: "cortex"}
FACET_TAG_NAMES = {PIAL: "pial", VENTRICLE: "ventricle", OUTER: "outer"}


@dataclass
class Domain:
    """Brain tissue with its tagged regions and boundaries.

    ``lesion_centre(depth, x)`` places a seed ``depth`` mm below the pial surface;
    each geometry knows how to do that for its own shape. ``coordinates``: cartesian, or the
    reduced (spherical, axisymmetric) system a 1D/2D mesh of a 3D body is written in.
    """

    mesh: dmesh.Mesh
    cell_tags: dmesh.MeshTags
    facet_tags: dmesh.MeshTags
    name: str
    lesion_centre_fn: object  # callable (depth_below_pia, horizontal_position) -> point
    coordinates: Coordinates = field(default_factory=Coordinates)

    @property
    def dim(self) -> int:
        return self.mesh.topology.dim

    @property
    def volume_dimension(self) -> int:
        """Sizes (lesion volume, axon loss ...) are in mm^this: 3 for a reduced 3D body."""
        return self.coordinates.volume_dimension(self.dim)

    def lesion_centre(self, depth_below_pia: float, horizontal: float) -> np.ndarray:
        return np.asarray(self.lesion_centre_fn(depth_below_pia, horizontal), dtype=float)

    def global_cell_count(self) -> int:
        return self.mesh.topology.index_map(self.dim).size_global
