"""Distance from the pial surface, for any geometry and any number of ranks."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from rimmodel.fem import fem, mesh as dmesh
from rimmodel.geometry.coordinates import SPHERICAL
from rimmodel.geometry.domain import PIAL, Domain

_SAMPLES_PER_EDGE = 8


def pial_sample_points(domain: Domain) -> np.ndarray:
    """Points densely covering the pial facets, gathered on every rank.

    Sampling each facet (not just its vertices) keeps the distance error below
    ~h/16; the gathered set is small (a surface), so every rank holds all of it.
    """
    msh = domain.mesh
    fdim = msh.topology.dim - 1
    facets = domain.facet_tags.find(PIAL)
    owned = facets[facets < msh.topology.index_map(fdim).size_local]
    msh.topology.create_connectivity(fdim, 0)
    vertices = dmesh.entities_to_geometry(msh, fdim, owned, False)
    corners = msh.geometry.x[vertices]  # (n_facets, n_vertices_per_facet, 3)
    weights = _barycentric_samples(corners.shape[1])
    local = np.einsum("sv,fvd->fsd", weights, corners).reshape(-1, 3) if owned.size else np.zeros((0, 3))
    gathered = msh.comm.allgather(local)
    return np.concatenate(gathered, axis=0)


def _barycentric_samples(n_vertices: int) -> np.ndarray:
    n = _SAMPLES_PER_EDGE
    if n_vertices == 1:
        return np.ones((1, 1))
    if n_vertices == 2:
        s = np.linspace(0.0, 1.0, n + 1)
        return np.stack([1 - s, s], axis=1)
    rows = [(i / n, j / n) for i in range(n + 1) for j in range(n + 1 - i)]
    return np.array([(1 - a - b, a, b) for a, b in rows])


def depth_below_pia(domain: Domain, space: fem.FunctionSpace) -> fem.Function:
    """A scalar function: distance (mm) from each degree of freedom to the nearest pial point."""
    depth = fem.Function(space, name="depth_below_pia")
    if domain.coordinates.kind == SPHERICAL:  # a ball of white matter: no pia, no cortex to bin
        depth.x.array[:] = np.inf
        return depth
    points = pial_sample_points(domain)
    if points.shape[0] == 0:
        raise ValueError(f"geometry {domain.name!r} has no facets tagged pial ({PIAL})")
    distances, _ = cKDTree(points, compact_nodes=False).query(space.tabulate_dof_coordinates())
    depth.x.array[:] = distances
    return depth
