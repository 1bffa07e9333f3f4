"""A labelled voxel (pixel) grid as a distributed simplex mesh with cell and facet tags.

Every tissue voxel is split into d! simplices along its main diagonal (the
Kuhn/Freudenthal split: 2 triangles per pixel, 6 tetrahedra per voxel). All
voxels use the same diagonal direction, so neighbouring splits match and the
mesh is conforming; every simplex is a copy of one of d! shapes, so cell
quality does not degrade anywhere. Vertices are ordered so that every cell's
Jacobian determinant is positive.

The grid is assembled on rank 0 and handed to ``dolfinx.mesh.create_mesh``,
which partitions it; the tags follow through ``distribute_entity_data``.
"""

from __future__ import annotations

import itertools

import basix.ufl
import numpy as np
import ufl

from rimmodel.fem import dolfinx, io, mesh as dmesh

CELL_NAMES = {2: "triangle", 3: "tetrahedron"}
OUTSIDE_GRID = -128  # neighbour code of the faces on the grid's own boundary


def kuhn_simplices(dim: int) -> np.ndarray:
    """The d! simplices of the unit cube as corner numbers (bit i of a corner = its i-th
    coordinate), each positively oriented."""
    corners = np.array(list(itertools.product((0, 1), repeat=dim)))[:, ::-1]  # corner c has bits c
    simplices = []
    for order in itertools.permutations(range(dim)):
        path = np.zeros(dim, dtype=int)
        vertices = [0]
        for axis in order:
            path[axis] = 1
            vertices.append(int(np.dot(path, 1 << np.arange(dim))))
        if np.linalg.det((corners[vertices[1:]] - corners[vertices[0]]).astype(float)) < 0:
            vertices[-2], vertices[-1] = vertices[-1], vertices[-2]
        simplices.append(vertices)
    return np.array(simplices)


def face_simplices(dim: int, axis: int, side: int) -> np.ndarray:
    """The facets of the Kuhn split lying on the cube face ``x[axis] = side``."""
    others = [a for a in range(dim) if a != axis]
    facets = []
    for order in itertools.permutations(others):
        corner = side << axis
        vertices = [corner]
        for other in order:
            corner |= 1 << other
            vertices.append(corner)
        facets.append(vertices)
    return np.array(facets)


def voxel_mesh(comm, labels: np.ndarray | None, origin: np.ndarray | None, spacing: float,
               facet_tag) -> tuple[dmesh.Mesh, dmesh.MeshTags, dmesh.MeshTags]:
    """``labels`` (rank 0; None elsewhere): > 0 a tissue tag, <= 0 a kind of empty space.
    ``facet_tag(tissue, neighbour)`` gives the tag of each face between a tissue voxel and
    an empty one (``OUTSIDE_GRID`` beyond the grid). Collective."""
    dim = comm.bcast(labels.ndim if comm.rank == 0 else None, root=0)
    if comm.rank == 0:
        cells, x, cell_values, facets, facet_values = _assemble(labels, origin, spacing, facet_tag)
    else:
        cells, x = np.zeros((0, dim + 1), dtype=np.int64), np.zeros((0, dim))
        cell_values, facets, facet_values = (np.zeros(0, dtype=np.int32), np.zeros((0, dim), dtype=np.int64),
                                             np.zeros(0, dtype=np.int32))
    element = basix.ufl.element("Lagrange", CELL_NAMES[dim], 1, shape=(dim,))
    msh = dmesh.create_mesh(comm, cells, ufl.Mesh(element), x)
    cell_tags = _tags(msh, dim, cells, cell_values, "cell_tags")
    facet_tags = _tags(msh, dim - 1, facets, facet_values, "facet_tags")
    return msh, cell_tags, facet_tags


def _assemble(labels: np.ndarray, origin: np.ndarray, spacing: float, facet_tag):
    """Cells (global vertex numbers), coordinates, cell tags, boundary facets and their tags."""
    dim, shape = labels.ndim, np.array(labels.shape)
    tissue = np.argwhere(labels > 0)
    node_shape = shape + 1
    corner_offsets = np.array(list(itertools.product((0, 1), repeat=dim)))[:, ::-1]  # corner c has bits c
    corner_nodes = np.stack([np.ravel_multi_index((tissue + offset).T, node_shape) for offset in corner_offsets],
                            axis=1)
    used = np.zeros(np.prod(node_shape), dtype=bool)
    used[corner_nodes.ravel()] = True
    number = np.cumsum(used) - 1
    x = origin + spacing * np.stack(np.unravel_index(np.flatnonzero(used), node_shape), axis=1).astype(float)
    simplices = kuhn_simplices(dim)
    cells = number[corner_nodes[:, simplices]].reshape(-1, dim + 1)
    cell_values = np.repeat(labels[tuple(tissue.T)], len(simplices)).astype(np.int32)
    facets, facet_values = _boundary_facets(labels, tissue, corner_nodes, number, facet_tag)
    return cells.astype(np.int64), x, cell_values, facets, facet_values


def _boundary_facets(labels, tissue, corner_nodes, number, facet_tag):
    dim = labels.ndim
    padded = np.pad(labels, 1, constant_values=OUTSIDE_GRID)
    facets, values = [], []
    for axis in range(dim):
        for side in (0, 1):
            step = np.zeros(dim, dtype=int)
            step[axis] = 1 if side else -1
            neighbour = padded[tuple((tissue + 1 + step).T)]
            open_face = neighbour <= 0
            face = face_simplices(dim, axis, side)
            nodes = corner_nodes[open_face][:, face]  # (faces, simplices per face, dim)
            facets.append(number[nodes].reshape(-1, dim))
            tags = facet_tag(labels[tuple(tissue[open_face].T)], neighbour[open_face])
            values.append(np.repeat(tags, len(face)))
    return np.concatenate(facets).astype(np.int64), np.concatenate(values).astype(np.int32)


def _tags(msh: dmesh.Mesh, dim: int, entities: np.ndarray, values: np.ndarray, name: str) -> dmesh.MeshTags:
    msh.topology.create_connectivity(dim, msh.topology.dim)
    local, local_values = io.distribute_entity_data(msh, dim, entities, values)
    tags = dmesh.meshtags_from_entities(msh, dim, dolfinx.graph.adjacencylist(local),
                                        local_values.astype(np.int32, copy=False))
    tags.name = name
    return tags
