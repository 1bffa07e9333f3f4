"""White matter around a ventricle wall, under a cortical ribbon (2D and 3D), meshed with gmsh.

A ``width`` x (white_matter_depth + cortex_thickness) section (extruded ``length``
mm along z in 3D) with a half-disc (half-cylinder along z) of radius
``ventricle_radius`` cut out of the bottom at x = width/2: the ventricle, tagged
ventricle. The pia is the flat top; the sides, bottom and (3D) end faces are outer.
Periventricular lesions are seeded just above the ventricle, deep below the pia.
"""

from __future__ import annotations

import numpy as np

from rimmodel.config.parameters import GeometryParameters, LesionParameters
from rimmodel.fem import MPI
from rimmodel.geometry.domain import CORTEX, OUTER, PIAL, VENTRICLE, WHITE_MATTER, Domain
from rimmodel.geometry.gmsh_model import Refinement, boundary_of, is_flat, mesh_with_gmsh
from rimmodel.geometry.seed import VerticalRay


def periventricular_section(params: GeometryParameters, comm=MPI.COMM_WORLD,
                            lesion: LesionParameters | None = None) -> Domain:
    return mesh_with_gmsh(comm, "periventricular_section", 2, lambda model: _build(model, params, 2),
                          _refinement(params, lesion, 2), VerticalRay(0, 1))


def periventricular(params: GeometryParameters, comm=MPI.COMM_WORLD,
                    lesion: LesionParameters | None = None) -> Domain:
    return mesh_with_gmsh(comm, "periventricular", 3, lambda model: _build(model, params, 3),
                          _refinement(params, lesion, 3), VerticalRay(0, 1, {2: params.length / 2}))


def tissue_measure(params: GeometryParameters, dim: int) -> dict[int, float]:
    """Exact areas (2D) or volumes (3D) of white matter and cortex."""
    cavity = 0.5 * np.pi * params.ventricle_radius**2
    white = params.width * params.white_matter_depth - cavity
    cortex = params.width * params.cortex_thickness
    depth = params.length if dim == 3 else 1.0
    return {WHITE_MATTER: white * depth, CORTEX: cortex * depth}


def _refinement(params: GeometryParameters, lesion: LesionParameters | None, dim: int) -> Refinement:
    refinement = Refinement(params.mesh_size, params.pial_mesh_size, params.cortex_thickness)
    if lesion is not None:
        top = params.white_matter_depth + params.cortex_thickness
        centre = [lesion.centre_x, top - lesion.depth_below_pia] + ([params.length / 2] if dim == 3 else [])
        refinement.lesion_centre = np.array(centre)
        refinement.lesion_radius = lesion.radius + params.lesion_refinement_margin
        refinement.lesion_size = params.lesion_mesh_size
    return refinement


def _build(model, params: GeometryParameters, dim: int) -> list[int]:
    occ = model.occ
    wm, ctx = params.white_matter_depth, params.cortex_thickness
    if dim == 2:
        white = occ.addRectangle(0.0, 0.0, 0.0, params.width, wm)
        cortex = occ.addRectangle(0.0, wm, 0.0, params.width, ctx)
        ventricle = occ.addDisk(params.width / 2, 0.0, 0.0, params.ventricle_radius, params.ventricle_radius)
    else:
        white = occ.addBox(0.0, 0.0, 0.0, params.width, wm, params.length)
        cortex = occ.addBox(0.0, wm, 0.0, params.width, ctx, params.length)
        ventricle = occ.addCylinder(params.width / 2, 0.0, 0.0, 0.0, 0.0, params.length, params.ventricle_radius)
    white_cut, _ = occ.cut([(dim, white)], [(dim, ventricle)])
    pieces, _ = occ.fragment(white_cut, [(dim, cortex)])  # conforming at the grey-white junction
    occ.synchronize()
    tolerance = 1e-5 * params.width  # OpenCASCADE pads bounding boxes by ~1e-7
    cells = {WHITE_MATTER: [], CORTEX: []}
    for _, tag in pieces:
        low, _ = np.array(model.getBoundingBox(dim, tag)).reshape(2, 3)
        cells[CORTEX if low[1] > wm - tolerance else WHITE_MATTER].append(tag)
    model.addPhysicalGroup(dim, cells[WHITE_MATTER], WHITE_MATTER, name="white_matter")
    model.addPhysicalGroup(dim, cells[CORTEX], CORTEX, name="cortex")
    facets = {PIAL: [], VENTRICLE: [], OUTER: []}
    for tag in boundary_of(model, dim):
        facets[_facet_kind(model, dim, tag, params, wm + ctx, tolerance)].append(tag)
    for kind, name in ((PIAL, "pial"), (VENTRICLE, "ventricle"), (OUTER, "outer")):
        model.addPhysicalGroup(dim - 1, facets[kind], kind, name=name)
    return facets[PIAL] + facets[VENTRICLE]


def _facet_kind(model, dim: int, tag: int, params: GeometryParameters, top: float, tolerance: float) -> int:
    if is_flat(model, dim - 1, tag, 1, top, tolerance):
        return PIAL
    planes = [(0, 0.0), (0, params.width), (1, 0.0)] + ([(2, 0.0), (2, params.length)] if dim == 3 else [])
    if any(is_flat(model, dim - 1, tag, axis, value, tolerance) for axis, value in planes):
        return OUTER
    return VENTRICLE
