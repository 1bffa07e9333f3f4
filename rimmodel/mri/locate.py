"""Evaluate P1 (nodal) fields at arbitrary points: find each point's cell, then its barycentric weights.

The run's own triangles/tetrahedra are used, so a non-convex tissue (a folded cortex)
is handled exactly; points in no cell lie outside the tissue. A point's cell is looked for
among the cells with the nearest centroids (a k-d tree), which finds almost every point;
the rest are checked against every cell whose centroid is within reach (the largest
centroid-vertex distance), which is exhaustive: a point in no such cell is outside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

_NEAREST_ROUNDS = (8, 64)  # nearest cell centroids tried per point, widening for points still unplaced
_TOLERANCE = 1e-10             # barycentric slack: points on a shared face belong to either cell


@dataclass(frozen=True)
class PointLocation:
    """Where sample points sit in a mesh; ``cell == -1`` means outside the tissue."""

    cell: np.ndarray      # (n,) containing cell, or -1
    vertices: np.ndarray  # (n, d+1) the cell's vertices (0 outside)
    weights: np.ndarray   # (n, d+1) barycentric weights (0 outside)

    @property
    def inside(self) -> np.ndarray:
        return self.cell >= 0

    def interpolate(self, nodal: np.ndarray, outside: float = 0.0) -> np.ndarray:
        """The P1 field with nodal values ``nodal`` at each point; ``outside`` where there is no tissue."""
        values = np.einsum("nk,nk->n", self.weights, nodal[self.vertices])
        return np.where(self.inside, values, outside)


def locate(points: np.ndarray, mesh_points: np.ndarray, cells: np.ndarray) -> PointLocation:
    """Locate ``points`` (n, 3) mm in the simplices ``cells`` over ``mesh_points`` (m, 3)."""
    dim = cells.shape[1] - 1
    corners = mesh_points[:, :dim][cells]                   # (c, d+1, d)
    inverse = np.linalg.inv(np.swapaxes(corners[:, 1:] - corners[:, :1], 1, 2))  # (c, d, d)
    centroids = corners.mean(axis=1)
    tree = cKDTree(centroids)
    xy = points[:, :dim]
    # a point farther from every centroid than the largest centroid-vertex distance is in no cell
    reach = np.linalg.norm(corners - centroids[:, None, :], axis=2).max()
    near_tissue = tree.query(xy, k=1)[0] <= reach * (1 + 1e-9)
    cell = np.full(len(xy), -1)
    weights = np.zeros((len(xy), dim + 1))
    for tries in dict.fromkeys(min(len(cells), count) for count in _NEAREST_ROUNDS):
        todo = np.flatnonzero((cell < 0) & near_tissue)
        if todo.size:  # all candidates again: equidistant centroids may come back in another order
            nearest = tree.query(xy[todo], k=tries)[1].reshape(todo.size, tries)
            _try_candidates(xy, todo, nearest, corners, inverse, cell, weights)
    todo = np.flatnonzero((cell < 0) & near_tissue)
    if todo.size:
        _try_within_reach(xy, todo, tree, reach, corners, inverse, cell, weights)
    inside = cell >= 0
    vertices = np.where(inside[:, None], cells[np.maximum(cell, 0)], 0)
    return PointLocation(cell, vertices, weights)


def _try_candidates(xy, todo, candidates, corners, inverse, cell, weights) -> None:
    """Fill ``cell``/``weights`` of points ``todo`` with the first candidate cell containing each.

    Candidates are tried nearest first, each only for the points still unplaced: most points
    are placed by their first or second candidate.
    """
    for rank in range(candidates.shape[1]):
        open_ = cell[todo] < 0
        points, trial = todo[open_], candidates[open_, rank]
        if not points.size:
            return
        local = np.einsum("pij,pj->pi", inverse[trial], xy[points] - corners[trial, 0])
        bary = np.column_stack([1.0 - local.sum(axis=1), local])
        contains = bary.min(axis=1) >= -_TOLERANCE
        cell[points[contains]] = trial[contains]
        weights[points[contains]] = np.clip(bary[contains], 0.0, 1.0)


def _try_within_reach(xy, todo, tree, reach, corners, inverse, cell, weights) -> None:
    """The exhaustive check for the few points the nearest centroids did not place."""
    balls = tree.query_ball_point(xy[todo], reach * (1 + 1e-9))
    points = np.repeat(todo, [len(ball) for ball in balls])
    trial = np.fromiter((c for ball in balls for c in ball), dtype=int, count=points.size)
    local = np.einsum("pij,pj->pi", inverse[trial], xy[points] - corners[trial, 0])
    bary = np.column_stack([1.0 - local.sum(axis=1), local])
    contains = bary.min(axis=1) >= -_TOLERANCE
    cell[points[contains]] = trial[contains]  # a point on a shared face keeps one of its cells
    weights[points[contains]] = np.clip(bary[contains], 0.0, 1.0)
