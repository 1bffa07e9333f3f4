"""A folded cortical section (2D) and its extrusion (3D), meshed with gmsh.

The pia is ``y = H - sulcus_depth * sum_k exp(-(x - x_k)^2 / (2 sulcus_width^2))``
with ``H = white_matter_depth + cortex_thickness`` and the sulci evenly spaced.
The grey-white junction is the set of tissue points exactly ``cortex_thickness``
from the pia, so the ribbon has the same thickness along every normal: it
follows the pia down into the sulcus and turns sharp corners under the crowns,
where the inward offsets of the two banks meet. ``sulcus_slab`` extrudes the
section ``length`` mm along z into tetrahedra.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree

from rimmodel.config.parameters import GeometryParameters, LesionParameters
from rimmodel.fem import MPI
from rimmodel.geometry.domain import CORTEX, OUTER, PIAL, WHITE_MATTER, Domain
from rimmodel.geometry.gmsh_model import Refinement, boundary_of, is_flat, mesh_with_gmsh
from rimmodel.geometry.seed import SeedLocator, VerticalRay

_DENSE = 4000  # pial samples for the junction and the analytic seed: ~0.002 mm apart on 8 mm


def cortical_sulcus(params: GeometryParameters, comm=MPI.COMM_WORLD, lesion: LesionParameters | None = None
                    ) -> Domain:
    return mesh_with_gmsh(comm, "cortical_sulcus", 2, lambda model: _build(model, params, extrude=False),
                          _refinement(params, lesion, "cortical_sulcus"), VerticalRay(0, 1))


def sulcus_slab(params: GeometryParameters, comm=MPI.COMM_WORLD, lesion: LesionParameters | None = None
                ) -> Domain:
    ray = VerticalRay(0, 1, {2: params.length / 2})
    return mesh_with_gmsh(comm, "sulcus_slab", 3, lambda model: _build(model, params, extrude=True),
                          _refinement(params, lesion, "sulcus_slab"), ray)


def pial_height(params: GeometryParameters, x: np.ndarray) -> np.ndarray:
    top = params.white_matter_depth + params.cortex_thickness
    centres = params.width * (np.arange(params.sulcus_count) + 0.5) / params.sulcus_count
    dips = np.exp(-((np.asarray(x)[..., None] - centres) ** 2) / (2 * params.sulcus_width**2))
    return top - params.sulcus_depth * dips.sum(axis=-1)


def junction_pieces(params: GeometryParameters) -> list[np.ndarray]:
    """The grey-white junction from x = 0 to x = width as smooth pieces (arrays of points)
    meeting at corners: inward offsets of the pia, minus those closer than the thickness
    to another part of the pia (the swallowtails under crowns)."""
    pia, normals = _dense_pia(params)
    offset = pia - params.cortex_thickness * normals
    distance, _ = cKDTree(pia).query(offset)
    kept = distance >= params.cortex_thickness * (1 - 1e-6)
    kept &= (offset[:, 0] >= 0) & (offset[:, 0] <= params.width)
    breaks = np.flatnonzero(np.diff(np.flatnonzero(kept)) > 1)
    runs = np.split(offset[kept], breaks + 1)
    corners = [0.5 * (before[-1] + after[0]) for before, after in zip(runs[:-1], runs[1:])]
    pieces = []
    for i, run in enumerate(runs):
        start = run[0] if i == 0 else corners[i - 1]
        end = run[-1] if i == len(runs) - 1 else corners[i]
        pieces.append(np.vstack([start, run[1:-1], end]))
    pieces[0][0, 0], pieces[-1][-1, 0] = 0.0, params.width  # flat pia at the sides (checked in config)
    return pieces


def _dense_pia(params: GeometryParameters) -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(0.0, params.width, _DENSE + 1)
    y = pial_height(params, x)
    slope = np.gradient(y, x)
    normals = np.stack([-slope, np.ones_like(slope)], axis=1) / np.sqrt(1 + slope**2)[:, None]
    return np.stack([x, y], axis=1), normals


def _refinement(params: GeometryParameters, lesion: LesionParameters | None, name: str) -> Refinement:
    """Refined at the pia and, if the lesion is known, around its seed (placed on the exact pia)."""
    refinement = Refinement(params.mesh_size, params.pial_mesh_size, params.cortex_thickness)
    if lesion is not None:
        pia, _ = _dense_pia(params)
        seed = SeedLocator(pia, VerticalRay(0, 1), 4 * params.width / _DENSE, 0.0, name)
        centre = seed(lesion.depth_below_pia, lesion.centre_x)
        refinement.lesion_centre = np.append(centre, params.length / 2) if name == "sulcus_slab" else centre
        refinement.lesion_radius = lesion.radius + params.lesion_refinement_margin
        refinement.lesion_size = params.lesion_mesh_size
    return refinement


def _build(model, params: GeometryParameters, extrude: bool) -> list[int]:
    geo = model.geo
    spacing = min(params.sulcus_width / 8, params.pial_mesh_size, 0.25)
    x = np.linspace(0.0, params.width, max(math.ceil(params.width / spacing), 8) + 1)
    pial_points = _points(geo, np.stack([x, pial_height(params, x)], axis=1))
    pial = geo.addSpline(pial_points)
    junction, junction_left, junction_right = _junction(geo, params, spacing)
    bottom_left, bottom_right = geo.addPoint(0.0, 0.0, 0.0), geo.addPoint(params.width, 0.0, 0.0)
    bottom = geo.addLine(bottom_left, bottom_right)
    right_wm = geo.addLine(bottom_right, junction_right)
    right_ctx = geo.addLine(junction_right, pial_points[-1])
    left_ctx = geo.addLine(pial_points[0], junction_left)
    left_wm = geo.addLine(junction_left, bottom_left)
    white = geo.addPlaneSurface([geo.addCurveLoop([bottom, right_wm, *[-c for c in reversed(junction)], left_wm])])
    cortex = geo.addPlaneSurface([geo.addCurveLoop([*junction, right_ctx, -pial, left_ctx])])
    if extrude:
        geo.extrude([(2, white), (2, cortex)], 0.0, 0.0, params.length)
    geo.synchronize()
    return _tag(model, params, 3 if extrude else 2, white, cortex)


def _junction(geo, params: GeometryParameters, spacing: float) -> tuple[list[int], int, int]:
    """Splines of the junction, left to right, each starting on the corner point the last ended on;
    also the tags of its left and right end points."""
    curves, corner, left = [], None, None
    for piece in junction_pieces(params):
        piece = _thin(piece, spacing)
        tags = _points(geo, piece) if corner is None else [corner, *_points(geo, piece[1:])]
        curves.append(geo.addSpline(tags))
        left = tags[0] if left is None else left
        corner = tags[-1]
    return curves, left, corner


def _points(geo, points: np.ndarray) -> list[int]:
    return [geo.addPoint(float(px), float(py), 0.0) for px, py in points]


def _thin(points: np.ndarray, spacing: float) -> np.ndarray:
    """Points about ``spacing`` apart along the curve, keeping both ends."""
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))])
    targets = np.linspace(0.0, arc[-1], max(math.ceil(arc[-1] / spacing), 2) + 1)[1:-1]
    return points[np.unique(np.concatenate([[0], np.searchsorted(arc, targets), [len(points) - 1]]))]


def _tag(model, params: GeometryParameters, dim: int, white: int, cortex: int) -> list[int]:
    if dim == 3:
        volumes = {tag: _volume_side(model, tag, params) for _, tag in model.getEntities(3)}
        white_cells = [tag for tag, side in volumes.items() if side == WHITE_MATTER]
        cortex_cells = [tag for tag, side in volumes.items() if side == CORTEX]
    else:
        white_cells, cortex_cells = [white], [cortex]
    model.addPhysicalGroup(dim, white_cells, WHITE_MATTER, name="white_matter")
    model.addPhysicalGroup(dim, cortex_cells, CORTEX, name="cortex")
    tolerance = 1e-5 * params.width
    outer, pial = [], []
    for tag in boundary_of(model, dim):
        flat = [is_flat(model, dim - 1, tag, 0, value, tolerance) for value in (0.0, params.width)]
        flat.append(is_flat(model, dim - 1, tag, 1, 0.0, tolerance))
        if dim == 3:
            flat += [is_flat(model, dim - 1, tag, 2, value, tolerance) for value in (0.0, params.length)]
        (outer if any(flat) else pial).append(tag)
    model.addPhysicalGroup(dim - 1, pial, PIAL, name="pial")
    model.addPhysicalGroup(dim - 1, outer, OUTER, name="outer")
    return pial


def _volume_side(model, tag: int, params: GeometryParameters) -> int:
    """White matter or cortex: the extrusion of which surface (white matter touches y = 0)."""
    low, _ = np.array(model.getBoundingBox(3, tag)).reshape(2, 3)
    return WHITE_MATTER if low[1] < 1e-8 * params.width else CORTEX
