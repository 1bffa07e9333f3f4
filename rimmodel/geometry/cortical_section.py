"""Built-in cortical section (2D) and slab (3D): white matter under a cortical ribbon, pia on top.

Made with ``dolfinx.mesh.create_rectangle`` / ``create_box`` (distributed from the
start, no files, no gmsh), then stretched vertically (y) so that a row of mesh
edges lies exactly on the grey-white junction. The slab extrudes the section
``length`` mm along z; the pia is the top face y = height in both.
"""

from __future__ import annotations

import math

import numpy as np

from rimmodel.config.parameters import GeometryParameters
from rimmodel.fem import MPI, mesh as dmesh
from rimmodel.geometry.domain import CORTEX, OUTER, PIAL, WHITE_MATTER, Domain


def cortical_section(params: GeometryParameters, comm=MPI.COMM_WORLD) -> Domain:
    rows_wm, rows, cols = _rows_and_columns(params)
    msh = dmesh.create_rectangle(comm, [[0.0, 0.0], [params.width, float(rows)]], [cols, rows],
                                 cell_type=dmesh.CellType.triangle,
                                 diagonal=dmesh.DiagonalType.left_right)
    height = _finish(msh, params, rows_wm)
    return Domain(msh, _tag_cells(msh, params.white_matter_depth), _tag_facets(msh, params.width, height),
                  name="cortical_section", lesion_centre_fn=lambda depth, x: (x, height - depth))


def cortical_slab(params: GeometryParameters, comm=MPI.COMM_WORLD) -> Domain:
    rows_wm, rows, cols = _rows_and_columns(params)
    layers = max(math.ceil(params.length / params.mesh_size), 1)
    msh = dmesh.create_box(comm, [[0.0, 0.0, 0.0], [params.width, float(rows), params.length]],
                           [cols, rows, layers], cell_type=dmesh.CellType.tetrahedron)
    height = _finish(msh, params, rows_wm)
    middle = params.length / 2
    return Domain(msh, _tag_cells(msh, params.white_matter_depth), _tag_facets(msh, params.width, height),
                  name="cortical_slab", lesion_centre_fn=lambda depth, x: (x, height - depth, middle))


def _rows_and_columns(params: GeometryParameters) -> tuple[int, int, int]:
    h = params.mesh_size
    rows_wm = max(math.ceil(params.white_matter_depth / h), 1)
    rows_ctx = max(math.ceil(params.cortex_thickness / h), 1)
    return rows_wm, rows_wm + rows_ctx, max(math.ceil(params.width / h), 1)


def _finish(msh, params: GeometryParameters, rows_wm: int) -> float:
    """Stretch rows to millimetres; returns the height of the pia."""
    _stretch_rows(msh.geometry.x, rows_wm, params.white_matter_depth, params.cortex_thickness)
    return params.white_matter_depth + params.cortex_thickness


def _stretch_rows(x: np.ndarray, rows_wm: int, wm: float, ctx: float) -> None:
    """Map row index (the reference y) to physical height, junction on row ``rows_wm``."""
    row = x[:, 1].copy()
    below = row <= rows_wm
    x[below, 1] = row[below] * (wm / rows_wm)
    rows_ctx = row.max() - rows_wm if row.max() > rows_wm else 1.0
    x[~below, 1] = wm + (row[~below] - rows_wm) * (ctx / rows_ctx)


def _tag_cells(msh, junction: float) -> dmesh.MeshTags:
    tdim = msh.topology.dim
    n_cells = msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts
    cells = np.arange(n_cells, dtype=np.int32)
    midpoints = dmesh.compute_midpoints(msh, tdim, cells)
    values = np.where(midpoints[:, 1] < junction, WHITE_MATTER, CORTEX).astype(np.int32)
    return dmesh.meshtags(msh, tdim, cells, values)


def _tag_facets(msh, width: float, height: float) -> dmesh.MeshTags:
    fdim = msh.topology.dim - 1
    tol = 1e-10 * max(width, height)
    pial = dmesh.locate_entities_boundary(msh, fdim, lambda p: np.isclose(p[1], height, atol=tol))
    boundary = dmesh.locate_entities_boundary(msh, fdim, lambda p: np.full(p.shape[1], True))
    outer = np.setdiff1d(boundary, pial)
    facets = np.concatenate([pial, outer]).astype(np.int32)
    values = np.concatenate([np.full(pial.size, PIAL), np.full(outer.size, OUTER)]).astype(np.int32)
    order = np.argsort(facets)
    return dmesh.meshtags(msh, fdim, facets[order], values[order])
