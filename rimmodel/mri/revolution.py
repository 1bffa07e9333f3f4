"""Radial and axisymmetric runs seen as the 3D lesions they stand for.

A ``spherical_lesion`` run holds its fields on a 1D mesh in r, an ``axisymmetric_lesion`` run on
a 2D mesh in (r, z) about the vertical axis through the lesion (docs/radial.md). The scanner
images them in 3D: a sample point x of the voxel grid takes the run's values at r = |x| (the
lesion centre is the origin), or at (r, z) = (√(x² + z²), y) for an axisymmetric run, whose
vertical stays the run's y axis (the pia on top, as in the sections and the 3D slab) and whose
axis is the line x = z = 0. The hidden-damage integrals use the same volume elements,
4π r² dr and 2π r dr dz, integrated exactly for P1 fields.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rimmodel.io.field_series import SPHERICAL, symmetry_of


@dataclass(frozen=True)
class Revolution:
    """How the 3D scanner space maps onto a symmetric run's own coordinates."""

    kind: str  # SPHERICAL or AXISYMMETRIC

    def covering_box(self, run_points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The 3D box (lower, upper corners, mm) the revolved tissue fills."""
        reach = run_points[:, 0].max()  # the run's r is its first coordinate, r >= 0
        if self.kind == SPHERICAL:
            return np.full(3, -reach), np.full(3, reach)
        bottom, top = run_points[:, 1].min(), run_points[:, 1].max()
        return np.array([-reach, bottom, -reach]), np.array([reach, top, reach])

    def run_coordinates(self, points: np.ndarray) -> np.ndarray:
        """3D points (n, 3) mm -> the run's own coordinates (n, 3): (r, 0, 0) or (r, z, 0)."""
        mapped = np.zeros_like(points)
        if self.kind == SPHERICAL:
            mapped[:, 0] = np.linalg.norm(points, axis=1)
        else:
            mapped[:, 0] = np.hypot(points[:, 0], points[:, 2])
            mapped[:, 1] = points[:, 1]
        return mapped

    def vertex_weights(self, points: np.ndarray, cells: np.ndarray) -> np.ndarray:
        """(cells, vertices) with ∫ u dV = Σ weights · u[cells] exactly for a P1 field u (mm³)."""
        if self.kind == SPHERICAL:
            inner, outer = points[cells[:, 0], 0], points[cells[:, 1], 0]
            return _shell_weights(np.minimum(inner, outer), np.maximum(inner, outer), inner <= outer)
        corners = points[:, :2][cells]                        # (c, 3, 2)
        edges = corners[:, 1:] - corners[:, :1]
        area = 0.5 * np.abs(np.linalg.det(edges))
        r = corners[:, :, 0]
        # ∫_T φ_i r dA = area (r_i + Σ_j r_j) / 12 (the linear φ_i against a linear r)
        return 2.0 * math.pi * area[:, None] * (r + r.sum(axis=1, keepdims=True)) / 12.0


def _shell_weights(a: np.ndarray, b: np.ndarray, a_first: np.ndarray) -> np.ndarray:
    """∫ φ 4π r² dr of the two hat functions on [a, b], in the cell's own vertex order."""
    h = b - a
    cubes, fourths = (b ** 3 - a ** 3) / 3.0, (b ** 4 - a ** 4) / 4.0
    at_a = 4.0 * math.pi * (b * cubes - fourths) / h    # φ = (b - r)/h
    at_b = 4.0 * math.pi * (fourths - a * cubes) / h    # φ = (r - a)/h
    return np.where(a_first[:, None], np.column_stack([at_a, at_b]), np.column_stack([at_b, at_a]))


def revolution_of(fields) -> Revolution | None:
    """The revolution of a run's fields, or None for a section or a 3D run."""
    kind = symmetry_of(fields)
    return None if kind is None else Revolution(kind)
