"""Radial and axisymmetric runs drawn as the section through the lesion centre they stand for.

A ``spherical_lesion`` run (fields on a 1D mesh in r) is drawn as the disc through the lesion
centre, a triangulation of rings at the run's own nodes, so every vertex carries a nodal value
of the run; an ``axisymmetric_lesion`` run (a 2D mesh in (r, z)) as the vertical section through
its axis: the (r, z) mesh beside its mirror image at −r. Both are triangle meshes, so every
renderer of 2D sections (snapshots, animations, the HTML report) draws them unchanged.
"""

from __future__ import annotations

import math

import numpy as np

from rimmodel.io.field_series import AXISYMMETRIC, SPHERICAL, FieldSeries, symmetry_of

WHITE_MATTER = 1  # the cell tag of the radial run's one tissue


class SectionThroughCentre:
    """A symmetric run's fields on a 2D section through the lesion centre (a FieldSeries look-alike)."""

    cell_type = "triangle"

    def __init__(self, run: FieldSeries, points: np.ndarray, cells: np.ndarray, source: np.ndarray,
                 cell_tags: np.ndarray | None):
        self.run, self.points, self.cells, self.cell_tags = run, points, cells, cell_tags
        self.source = source  # section vertex -> the run's node whose value it carries
        self.times = run.times
        self.geometry_kind = None  # the drawn section is a plain 2D section: never revolved again

    @property
    def names(self) -> list[str]:
        return self.run.names

    def values(self, name: str, index: int) -> np.ndarray:
        return self.run.values(name, index)[self.source]

    def index_at(self, t: float) -> int:
        return self.run.index_at(t)


def drawable(series: FieldSeries):
    """The series itself for sections and 3D runs; the section through the centre for symmetric runs."""
    kind = symmetry_of(series)
    if kind == SPHERICAL:
        return _disc(series)
    if kind == AXISYMMETRIC:
        return _mirrored(series)
    return series


def _disc(run: FieldSeries) -> SectionThroughCentre:
    """Rings of points at each node's radius, about as far apart along the ring as the nodes are in r."""
    from scipy.spatial import Delaunay

    radii = run.points[:, 0]
    spacing = np.diff(np.sort(radii)).min()
    points, source = [], []
    for node, r in enumerate(radii):
        count = 1 if r <= 0.0 else max(6, math.ceil(2 * math.pi * r / spacing))
        angle = 2 * math.pi * np.arange(count) / count
        points.append(np.column_stack([r * np.cos(angle), r * np.sin(angle), np.zeros(count)]))
        source.append(np.full(count, node))
    points, source = np.concatenate(points), np.concatenate(source)
    cells = Delaunay(points[:, :2]).simplices  # the rings are convex: the hull is the outer ring
    return SectionThroughCentre(run, points, cells, source, np.full(len(cells), WHITE_MATTER))


def _mirrored(run: FieldSeries) -> SectionThroughCentre:
    """The (r, z) mesh and its mirror image at −r: the vertical section through the axis. Nodes on
    the axis are shared by both halves (a triangulation with duplicate points is invalid)."""
    count = len(run.points)
    off_axis = np.flatnonzero(run.points[:, 0] > 0.0)
    mirror_of = np.arange(count)  # node -> its mirror image (itself on the axis)
    mirror_of[off_axis] = count + np.arange(off_axis.size)
    points = np.concatenate([run.points, run.points[off_axis] * np.array([-1.0, 1.0, 1.0])])
    cells = np.concatenate([run.cells, mirror_of[run.cells[:, ::-1]]])  # reversed: the mirror keeps the orientation
    tags = None if run.cell_tags is None else np.concatenate([run.cell_tags, run.cell_tags])
    return SectionThroughCentre(run, points, cells, np.concatenate([np.arange(count), off_axis]), tags)
