"""Placing the lesion seed a given depth below a curved or folded pial surface.

The seed lies on a vertical ray: at ``horizontal`` along one axis (and at fixed
values of the others in 3D), entering the tissue at the uppermost pial point on
that line and descending until the distance to the pia -- the same distance
``depth_below_pia`` measures -- reaches the requested depth. On a flat pia this
is just ``top - depth``; under a sulcus it follows the fundus.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from rimmodel.config.spec import ConfigError
from rimmodel.fem import MPI, mesh as dmesh
from rimmodel.geometry.depth import pial_sample_points
from rimmodel.geometry.domain import PIAL, Domain

_BISECTIONS = 40


@dataclass
class VerticalRay:
    """Where the seed ray runs: coordinate indices and the fixed coordinates (3D)."""

    horizontal_axis: int
    up_axis: int
    fixed: dict[int, float] = field(default_factory=dict)  # axis -> coordinate, the remaining axes

    def to_dict(self) -> dict:
        return {"horizontal_axis": self.horizontal_axis, "up_axis": self.up_axis,
                "fixed": {str(axis): value for axis, value in self.fixed.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> VerticalRay:
        return cls(int(data["horizontal_axis"]), int(data["up_axis"]),
                   {int(axis): float(value) for axis, value in data["fixed"].items()})


class SeedLocator:
    """``locator(depth, horizontal)`` -> seed point. Rank-local: it holds every pial sample
    point, so placing a seed needs no communication."""

    def __init__(self, pial_points: np.ndarray, ray: VerticalRay, spacing: float, bottom: float, name: str):
        """``spacing``: pial facet size (how close to the ray a pial sample must be);
        ``bottom``: lowest tissue coordinate along the up axis."""
        if pial_points.shape[0] == 0:
            raise ValueError(f"geometry {name!r} has no pial facets to place a lesion under")
        self.gdim = pial_points.shape[1]
        self.points, self.ray, self.spacing, self.bottom, self.name = pial_points, ray, spacing, bottom, name
        self.tree = cKDTree(pial_points, compact_nodes=False)  # compacted nodes: 20x slower on a voxel pia

    def __call__(self, depth: float, horizontal: float) -> np.ndarray:
        top = self._entry_point(horizontal)
        if depth == 0.0:
            return top
        down = np.zeros(self.gdim)
        down[self.ray.up_axis] = -1.0
        step = min(self.spacing / 4, depth / 8)
        reach = top[self.ray.up_axis] - self.bottom
        travelled = step
        while self._distance(top + travelled * down) < depth:
            travelled += step
            if travelled > reach:
                raise ConfigError(f"lesion.depth_below_pia = {depth}: geometry {self.name!r} is not that "
                                  f"deep below the pia at lesion.centre_x = {horizontal}")
        return top + self._bisect(top, down, travelled - step, travelled, depth) * down

    def _entry_point(self, horizontal: float) -> np.ndarray:
        """The uppermost pial sample within half a facet of the ray, moved onto the ray."""
        line = np.zeros(self.gdim)
        line[self.ray.horizontal_axis] = horizontal
        for axis, value in self.ray.fixed.items():
            line[axis] = value
        across = [axis for axis in range(self.gdim) if axis != self.ray.up_axis]
        offsets = np.linalg.norm(self.points[:, across] - line[across], axis=1)
        near = offsets <= self.spacing / 2
        if not near.any():
            span = self.points[:, self.ray.horizontal_axis]
            raise ConfigError(f"lesion.centre_x = {horizontal}: no pial surface above this position in "
                              f"geometry {self.name!r} (pia spans {span.min():.4g} to {span.max():.4g} mm "
                              f"along that axis)")
        heights = self.points[near, self.ray.up_axis]
        uppermost = heights >= heights.max() - self.spacing  # the first crossing, not a deeper fold
        line[self.ray.up_axis] = heights[uppermost][np.argmin(offsets[near][uppermost])]
        return line

    def _distance(self, point: np.ndarray) -> float:
        return float(self.tree.query(point)[0])

    def _bisect(self, top, down, inside: float, beyond: float, depth: float) -> float:
        for _ in range(_BISECTIONS):
            middle = 0.5 * (inside + beyond)
            if self._distance(top + middle * down) < depth:
                inside = middle
            else:
                beyond = middle
        return 0.5 * (inside + beyond)


def seeded_domain(msh: dmesh.Mesh, cell_tags: dmesh.MeshTags, facet_tags: dmesh.MeshTags, name: str,
                  ray: VerticalRay) -> Domain:
    """A :class:`Domain` whose lesion seeds descend along ``ray``. Collective."""
    domain = Domain(msh, cell_tags, facet_tags, name=name, lesion_centre_fn=None)
    bottom = msh.comm.allreduce(msh.geometry.x[:, ray.up_axis].min(initial=np.inf), op=MPI.MIN)
    locator = SeedLocator(pial_sample_points(domain)[:, :msh.geometry.dim], ray, _longest_pial_edge(domain),
                          bottom, name)
    domain.lesion_centre_fn = locator
    return domain


def _longest_pial_edge(domain: Domain) -> float:
    msh = domain.mesh
    fdim = msh.topology.dim - 1
    facets = domain.facet_tags.find(PIAL)
    corners = msh.geometry.x[dmesh.entities_to_geometry(msh, fdim, facets, False)]
    n = corners.shape[1]
    edges = [np.linalg.norm(corners[:, i] - corners[:, j], axis=1) for i in range(n) for j in range(i + 1, n)]
    local = max((e.max(initial=0.0) for e in edges), default=0.0)
    return msh.comm.allreduce(local, op=MPI.MAX)
