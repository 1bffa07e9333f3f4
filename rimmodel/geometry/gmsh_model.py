"""Meshing a gmsh model on rank 0 and handing dolfinx the distributed mesh with its tags.

Every shape builds its geometry and physical groups with the gmsh API (cells:
white matter 1 / cortex 2; facets: pial 1 / ventricle 2 / outer 3, the same
numbers as :mod:`rimmodel.geometry.domain`). The cell size follows one background
field: ``pial_size`` at the refined surfaces, growing to ``far_size`` over
``transition``, and ``lesion_size`` inside a ball around the seed.
``dolfinx.io.gmsh.model_to_mesh`` then partitions the mesh over the ranks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rimmodel.config.spec import ConfigError
from rimmodel.fem import io
from rimmodel.geometry.domain import Domain
from rimmodel.geometry.seed import VerticalRay, seeded_domain

# Distance-field samples per parametric direction of a refined surface: two per pial cell,
# capped so that a large surface does not cost more to sample than to mesh.
_MAX_SAMPLING = 1000


@dataclass
class Refinement:
    far_size: float
    pial_size: float
    transition: float  # distance over which cells grow from pial_size / lesion_size to far_size
    lesion_centre: np.ndarray | None = None
    lesion_radius: float = 0.0
    lesion_size: float = 0.0


def mesh_with_gmsh(comm, name: str, dim: int, build: Callable, refinement: Refinement,
                   ray: VerticalRay) -> Domain:
    """``build(model)`` runs on rank 0 only: it adds the geometry and physical groups and
    returns the (dim-1)-entity tags to refine at. Collective."""
    try:
        import gmsh
    except ImportError as error:
        raise ConfigError(f"geometry.kind = {name!r} needs gmsh (pip install gmsh)") from error
    failure = None
    if comm.rank == 0:
        gmsh.initialize(interruptible=False)
        try:
            _generate(gmsh, name, dim, build, refinement)
        except Exception as error:  # raised again on every rank, so none waits forever
            failure = error
    failure = comm.bcast(failure, root=0)
    try:
        if failure is not None:
            raise failure
        data = io.gmsh.model_to_mesh(gmsh.model if comm.rank == 0 else None, comm, 0, gdim=dim)
    finally:
        if comm.rank == 0:
            gmsh.finalize()
    data.cell_tags.name, data.facet_tags.name = "cell_tags", "facet_tags"
    return seeded_domain(data.mesh, data.cell_tags, data.facet_tags, name, ray)


def _generate(gmsh, name: str, dim: int, build: Callable, refinement: Refinement) -> None:
    gmsh.option.setNumber("General.Terminal", 0)
    gmsh.option.setNumber("General.NumThreads", 1)  # the same mesh on every run
    gmsh.model.add(name)
    refined = build(gmsh.model)
    _set_cell_sizes(gmsh, dim, refined, refinement)
    gmsh.model.mesh.generate(dim)
    if dim == 3:
        gmsh.model.mesh.optimize("Netgen")


def _set_cell_sizes(gmsh, dim: int, refined: list[int], refinement: Refinement) -> None:
    fields = gmsh.model.mesh.field
    far = refinement.far_size
    distance = fields.add("Distance")
    fields.setNumbers(distance, "CurvesList" if dim == 2 else "SurfacesList", refined)
    fields.setNumber(distance, "Sampling", _sampling(gmsh, dim - 1, refined, refinement.pial_size))
    near_surface = fields.add("Threshold")
    fields.setNumber(near_surface, "InField", distance)
    fields.setNumber(near_surface, "SizeMin", min(refinement.pial_size, far))
    fields.setNumber(near_surface, "SizeMax", far)
    fields.setNumber(near_surface, "DistMin", 0.0)
    fields.setNumber(near_surface, "DistMax", refinement.transition)
    sizes = [near_surface]
    if refinement.lesion_centre is not None:
        sizes.append(_lesion_ball(fields, refinement))
    smallest = fields.add("Min")
    fields.setNumbers(smallest, "FieldsList", sizes)
    fields.setAsBackgroundMesh(smallest)
    for option in ("MeshSizeExtendFromBoundary", "MeshSizeFromPoints", "MeshSizeFromCurvature"):
        gmsh.option.setNumber(f"Mesh.{option}", 0)
    gmsh.option.setNumber("Mesh.MeshSizeMax", far)


def _lesion_ball(fields, refinement: Refinement) -> int:
    ball = fields.add("Ball")
    centre = np.zeros(3)
    centre[:refinement.lesion_centre.size] = refinement.lesion_centre
    for key, value in zip(("XCenter", "YCenter", "ZCenter"), centre):
        fields.setNumber(ball, key, float(value))
    fields.setNumber(ball, "Radius", refinement.lesion_radius)
    fields.setNumber(ball, "Thickness", refinement.transition)
    fields.setNumber(ball, "VIn", min(refinement.lesion_size, refinement.far_size))
    fields.setNumber(ball, "VOut", refinement.far_size)
    return ball


def _sampling(gmsh, dim: int, tags: list[int], size: float) -> int:
    """Samples per parametric direction so that neighbouring samples are ~size/2 apart."""
    extent = 0.0
    for tag in tags:
        low, high = np.array(gmsh.model.getBoundingBox(dim, tag)).reshape(2, 3)
        extent = max(extent, float(np.max(high - low)))
    return min(max(math.ceil(2 * extent / size), 20), _MAX_SAMPLING)


def boundary_of(model, dim: int) -> list[int]:
    """Tags of the (dim-1)-entities on the outside of all dim-entities together."""
    cells = model.getEntities(dim)
    return [abs(tag) for _, tag in model.getBoundary(cells, combined=True, oriented=False)]


def is_flat(model, dim: int, tag: int, axis: int, value: float, tolerance: float) -> bool:
    """Whether the entity lies in the plane (3D) or on the line (2D) ``x[axis] = value``."""
    low, high = np.array(model.getBoundingBox(dim, tag)).reshape(2, 3)
    return abs(low[axis] - value) < tolerance and abs(high[axis] - value) < tolerance
