"""Refuse configs whose mesh or output count would exhaust memory, before anything is allocated.

Every value can be inside its own range while the combination is not: ``geometry.mesh_size =
0.005`` on a 200 mm section is ~1.7e9 cells, ``time.output_interval = 1e-6`` over 1000 years
is 1e9 outputs. Pure Python (no FEM stack): the cell count is estimated from the geometry.

* Built-in section and slab: exact (the structured grid dolfinx makes, distributed).
* gmsh shapes: the integral of the cell density of gmsh's size field (far size; refinement
  graded linearly over ``cortex_thickness`` from the pia, the ventricle wall and the lesion
  ball). Meshed on rank 0, so they share the voxel meshes' rank-0 limit.
* MNI meshes: the voxel bound of geometry_checks (checked there).
* A mesh file: its size is known when it is read (it was checked when `rimmodel mesh` made it).
"""

from __future__ import annotations

import math

from rimmodel.config.geometry_checks import MAX_VOXEL_CELLS, SULCUS_KINDS, VENTRICLE_KINDS
from rimmodel.config.parameters import GeometryParameters, LesionParameters, TimeParameters
from rimmodel.config.spec import ConfigError

# Distributed meshes (built-in section/slab). Assumed limit: about 0.6 TB over all ranks at the
# measured 3.4 KiB per DOF (docs/scaling.md), twice the largest weak-scaling projection there
# (1024 ranks x 86k cells).
MAX_CELLS = 200_000_000
# Meshes made on rank 0 (gmsh): the rank-0 limit of the voxel meshes (geometry_checks).
MAX_RANK0_CELLS = MAX_VOXEL_CELLS
# Each output is a stop of the time loop, a row of every series in memory and (with fields) a
# copy of every field on disk. Assumed limit: 1e5, e.g. every 0.01 yr for 1000 years.
MAX_OUTPUTS = 100_000

DIMENSION = {"cortical_section": 2, "cortical_slab": 3, "cortical_sulcus": 2, "sulcus_slab": 3,
             "periventricular_section": 2, "periventricular": 3}
# cells per unit measure at cell size h, times h^d. 2D: equilateral triangles, 4/sqrt(3) (gmsh's
# sulcus and periventricular sections: estimates 0.98-1.24x the actual counts). 3D: measured, gmsh
# makes 3.1-3.4 tetrahedra per h^3 (periventricular.toml 62.6k, a sulcus_slab 41.7k cells), not the
# 8.5 of regular tetrahedra; 3.4 keeps the estimate at or above the count.
DENSITY = {2: 4.0 / math.sqrt(3.0), 3: 3.4}


def check_resources(geometry: GeometryParameters, lesion: LesionParameters, time: TimeParameters) -> None:
    if geometry.kind in DIMENSION:
        cells = estimated_cells(geometry, lesion)
        rank0 = geometry.kind not in ("cortical_section", "cortical_slab")
        limit = MAX_RANK0_CELLS if rank0 else MAX_CELLS
        if cells > limit:
            sizes = f"geometry.mesh_size = {geometry.mesh_size:g}"
            if rank0:
                sizes += f", pial_mesh_size = {geometry.pial_mesh_size:g}, lesion_mesh_size = {geometry.lesion_mesh_size:g}"
            raise ConfigError(
                f"{sizes} on this {geometry.kind} "
                f"({_extent(geometry)}) makes about {cells:.2g} cells, more than {limit:.0e}"
                f"{' (gmsh meshes on rank 0)' if rank0 else ''}: coarsen the mesh sizes or shrink the geometry")
    intervals = math.floor(time.end / time.output_interval + 1e-9)  # as rimmodel.solver.time_loop.stop_times
    if intervals > MAX_OUTPUTS:
        raise ConfigError(f"time.output_interval = {time.output_interval:g} over time.end = {time.end:g} yr makes "
                          f"{intervals:.2g} output times, more than {MAX_OUTPUTS:.0e}: choose a longer interval")


def estimated_cells(geometry: GeometryParameters, lesion: LesionParameters) -> float:
    h = geometry.mesh_size
    rows = math.ceil(geometry.white_matter_depth / h) + math.ceil(geometry.cortex_thickness / h)
    columns = math.ceil(geometry.width / h)
    if geometry.kind == "cortical_section":
        return 2.0 * rows * columns
    if geometry.kind == "cortical_slab":
        return 6.0 * rows * columns * max(math.ceil(geometry.length / h), 1)
    return _gmsh_cells(geometry, lesion, DIMENSION[geometry.kind])


def _gmsh_cells(geometry: GeometryParameters, lesion: LesionParameters, dim: int) -> float:
    far, graded = geometry.mesh_size, geometry.cortex_thickness
    depth = geometry.length if dim == 3 else 1.0
    cross_section = geometry.width * (geometry.white_matter_depth + geometry.cortex_thickness)
    pia = geometry.width
    if geometry.kind in SULCUS_KINDS:
        pia += 2.0 * geometry.sulcus_depth * geometry.sulcus_count  # both walls of every fold
    walls = pia
    if geometry.kind in VENTRICLE_KINDS:
        cross_section -= 0.5 * math.pi * geometry.ventricle_radius**2
        walls += math.pi * geometry.ventricle_radius
    cells = _density(far, dim) * cross_section * depth
    cells += walls * depth * _graded_excess(geometry.pial_mesh_size, far, graded, dim)
    radius = lesion.radius + geometry.lesion_refinement_margin
    inner = min(geometry.lesion_mesh_size, far)
    ball = math.pi * radius**2 if dim == 2 else 4.0 / 3.0 * math.pi * radius**3
    surface = 2.0 * math.pi * radius if dim == 2 else 4.0 * math.pi * radius**2
    cells += ball * (_density(inner, dim) - _density(far, dim)) + surface * _graded_excess(inner, far, graded, dim)
    return cells


def _density(size: float, dim: int) -> float:
    return DENSITY[dim] / size**dim


def _graded_excess(fine: float, far: float, distance: float, dim: int) -> float:
    """Extra cells per unit refined surface: the size grows linearly from ``fine`` to ``far`` over
    ``distance``; the integral of density(size) - density(far) across that layer."""
    fine = min(fine, far)
    if far - fine < 1e-12 * far:
        return 0.0
    slope = (far - fine) / distance
    if dim == 2:  # integral of 1/h^2 dh / slope
        integral = (1.0 / fine - 1.0 / far) / slope
    else:  # integral of 1/h^3 dh / slope
        integral = 0.5 * (1.0 / fine**2 - 1.0 / far**2) / slope
    return DENSITY[dim] * integral - _density(far, dim) * distance


def _extent(geometry: GeometryParameters) -> str:
    height = geometry.white_matter_depth + geometry.cortex_thickness
    sides = f"{geometry.width:g} x {height:g}"
    return sides + (f" x {geometry.length:g} mm" if DIMENSION[geometry.kind] == 3 else " mm")
