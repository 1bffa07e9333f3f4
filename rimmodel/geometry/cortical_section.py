"""Built-in 2D cortical section: white matter under a cortical ribbon, pia on top.

Made with ``dolfinx.mesh.create_rectangle`` (distributed from the start, no
files, no gmsh), then stretched vertically so that a row of mesh edges lies
exactly on the grey-white junction.
"""

from __future__ import annotations

import math

import numpy as np

from rimmodel.config.parameters import GeometryParameters
from rimmodel.fem import MPI, mesh as dmesh
from rimmodel.geometry.domain import CORTEX, OUTER, PIAL, WHITE_MATTER, Domain


def cortical_section(params: GeometryParameters, comm=MPI.COMM_WORLD) -> Domain:
    wm, ctx, width, h = params.white_matter_depth, params.cortex_thickness, params.width, params.mesh_size
    rows_wm, rows_ctx = max(math.ceil(wm / h), 1), max(math.ceil(ctx / h), 1)
    rows, cols = rows_wm + rows_ctx, max(math.ceil(width / h), 1)
    msh = dmesh.create_rectangle(comm, [[0.0, 0.0], [width, float(rows)]], [cols, rows],
                                 cell_type=dmesh.CellType.triangle,
                                 diagonal=dmesh.DiagonalType.left_right)
    _stretch_rows(msh.geometry.x, rows_wm, wm, ctx)
    height = wm + ctx
    cell_tags = _tag_cells(msh, junction=wm)
    facet_tags = _tag_facets(msh, width, height)
    return Domain(msh, cell_tags, facet_tags, name="cortical_section",
                  lesion_centre_fn=lambda depth, x: (x, height - depth))


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
