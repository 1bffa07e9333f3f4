"""The scanner's voxel grid, in the run's own mm coordinates.

Voxel (i, j, k) has its centre at ``affine @ (i, j, k, 1)``: the same map goes into the
NIfTI header, so a viewer shows the images where the mesh is. A 2D run (a section in
the x-y plane) becomes one slice of thickness ``slice_thickness`` centred on z = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class VoxelGrid:
    shape: tuple[int, int, int]
    spacing: tuple[float, float, float]   # mm
    first_centre: tuple[float, float, float]  # mm, centre of voxel (0, 0, 0)
    dimension: int                        # of the run: 2 (single slice) or 3

    @classmethod
    def covering(cls, lower: np.ndarray, upper: np.ndarray, dimension: int, voxel: float,
                 slice_thickness: float, margin: int) -> VoxelGrid:
        """Voxels of edge ``voxel`` over the box [lower, upper], centred on it, with ``margin`` extra around."""
        shape, spacing, first = [], [], []
        for axis in range(3):
            if axis == 2 and dimension == 2:
                shape.append(1), spacing.append(slice_thickness), first.append(0.0)
                continue
            inner = max(1, math.ceil((upper[axis] - lower[axis]) / voxel - 1e-9))
            start = 0.5 * (lower[axis] + upper[axis]) - 0.5 * inner * voxel
            shape.append(inner + 2 * margin)
            spacing.append(voxel)
            first.append(start - margin * voxel + 0.5 * voxel)
        return cls(tuple(shape), tuple(spacing), tuple(first), dimension)

    @property
    def affine(self) -> np.ndarray:
        """Voxel index -> mm (4x4, no rotation)."""
        affine = np.diag([*self.spacing, 1.0])
        affine[:3, 3] = self.first_centre
        return affine

    @property
    def voxel_volume(self) -> float:
        """mm^3 (for a 2D run: in-plane area times slice thickness)."""
        return float(np.prod(self.spacing))

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def axes(self) -> list[np.ndarray]:
        """Voxel-centre coordinates along x, y, z (mm)."""
        return [self.first_centre[a] + self.spacing[a] * np.arange(self.shape[a]) for a in range(3)]

    def centres(self) -> np.ndarray:
        """(size, 3) mm, in C order of the (i, j, k) index."""
        x, y, z = np.meshgrid(*self.axes(), indexing="ij")
        return np.column_stack([x.ravel(), y.ravel(), z.ravel()])

    def subpoints(self, per_edge: int) -> np.ndarray:
        """(size, per_edge^d, 3) mm: midpoint-rule sample points filling each voxel.

        In a 2D run the fields do not vary across the slice, so only the in-plane axes are sampled.
        """
        fractions = (np.arange(per_edge) + 0.5) / per_edge - 0.5
        sampled_axes = range(self.dimension)
        offsets_1d = [fractions * self.spacing[a] if a in sampled_axes else np.zeros(1) for a in range(3)]
        ox, oy, oz = np.meshgrid(*offsets_1d, indexing="ij")
        offsets = np.column_stack([ox.ravel(), oy.ravel(), oz.ravel()])
        return self.centres()[:, None, :] + offsets[None, :, :]
