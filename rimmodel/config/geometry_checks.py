"""Checks that tie the lesion seed and the cell size to the chosen geometry.

Pure Python (no FEM stack), so a config is validated before any mesh is built.
Sections (the built-in and gmsh shapes) place the seed at ``lesion.centre_x`` in
(0, width) and ``depth_below_pia`` inside their height; MNI meshes place it at
an MNI coordinate inside the region box.
"""

from __future__ import annotations

import math

from rimmodel.config.parameters import GeometryParameters, LesionParameters
from rimmodel.config.spec import ConfigError

SULCUS_KINDS = ("cortical_sulcus", "sulcus_slab")
VENTRICLE_KINDS = ("periventricular_section", "periventricular")
MNI_KINDS = ("mni_slice", "mni_brain")
RADIAL_KINDS = ("spherical_lesion",)  # no cortex, no pia, no section: their settings are not used
AXISYMMETRIC_KINDS = ("axisymmetric_lesion",)  # a section in (r, z): the lesion sits on the axis r = 0
WORLD_AXES = ("x", "y", "z")
# A voxel mesh is assembled on rank 0 before it is distributed: ~1 kB of rank-0 memory per
# cell in all, so 2e7 cells (~20 GB) is what a 24 GiB machine can still take.
MAX_VOXEL_CELLS = 20_000_000


def check_geometry(geometry: GeometryParameters) -> None:
    """Raise :class:`ConfigError` naming the field if the geometry cannot be built."""
    if geometry.kind in MNI_KINDS:
        _check_mni_region(geometry)
    elif geometry.kind in RADIAL_KINDS:
        _check_radial(geometry)
    elif geometry.kind == "file":
        if not geometry.mesh_file:
            raise ConfigError("geometry.mesh_file: kind 'file' needs the path of an XDMF mesh "
                              "written by `rimmodel mesh`")
    else:
        if geometry.mesh_size > min(geometry.cortex_thickness, geometry.white_matter_depth):
            raise ConfigError(f"geometry.mesh_size = {geometry.mesh_size} must not exceed the cortex "
                              f"and white-matter thicknesses")
        if geometry.kind in SULCUS_KINDS:
            _check_sulci(geometry)
        if geometry.kind in VENTRICLE_KINDS:
            _check_ventricle(geometry)


def check_lesion_seed(geometry: GeometryParameters, lesion: LesionParameters) -> None:
    """Raise :class:`ConfigError` if the lesion cannot be seeded in this geometry. A mesh file's
    extent is known only once it is read (the seed locator checks it then)."""
    if geometry.kind in MNI_KINDS:
        _check_mni_seed(geometry, lesion)
    elif geometry.kind in RADIAL_KINDS:
        if lesion.radius >= geometry.outer_radius:
            raise ConfigError(f"lesion.radius = {lesion.radius} must lie inside the ball of white matter: "
                              f"allowed [0.05, {geometry.outer_radius}) mm (geometry.outer_radius)")
    elif geometry.kind in AXISYMMETRIC_KINDS:
        _check_section_depth(geometry, lesion)
    elif geometry.kind != "file":
        _check_section_seed(geometry, lesion)
        if geometry.kind in VENTRICLE_KINDS:
            _check_seed_outside_ventricle(geometry, lesion)


def mni_axes(kind: str, slice_axis: str) -> tuple[int, int]:
    """World axes (0 x, 1 y, 2 z) along which ``lesion.centre_x`` runs and the seed descends.

    The 3D brain: x, seeded from above (z). A slice: its first in-plane axis, seeded
    from the high end of its second (from above for coronal and sagittal slices,
    from the front for axial ones).
    """
    if kind == "mni_brain":
        return 0, 2
    in_plane = [axis for axis in range(3) if WORLD_AXES[axis] != slice_axis]
    return in_plane[0], in_plane[1]


def mni_cell_bound(geometry: GeometryParameters) -> int:
    """Cells if the whole region box were tissue: 2 triangles per pixel or 6 tetrahedra per voxel."""
    if geometry.kind == "mni_slice":
        normal = WORLD_AXES.index(geometry.mni_slice_axis)
        sides = [s for axis, s in enumerate(geometry.mni_region_size) if axis != normal]
        return 2 * math.prod(max(round(s / geometry.mesh_size), 1) for s in sides)
    return 6 * math.prod(max(round(s / geometry.mesh_size), 1) for s in geometry.mni_region_size)


def _check_radial(geometry: GeometryParameters) -> None:
    if geometry.mesh_size > geometry.outer_radius / 4:
        raise ConfigError(f"geometry.mesh_size = {geometry.mesh_size} is too coarse for geometry.outer_radius = "
                          f"{geometry.outer_radius}: allowed [0.005, {geometry.outer_radius / 4:g}] mm")


def _check_section_seed(geometry: GeometryParameters, lesion: LesionParameters) -> None:
    if not (0.0 < lesion.centre_x < geometry.width):
        raise ConfigError(f"lesion.centre_x = {lesion.centre_x} must lie inside the section: "
                          f"allowed (0, {geometry.width}) mm")
    _check_section_depth(geometry, lesion)


def _check_section_depth(geometry: GeometryParameters, lesion: LesionParameters) -> None:
    depth = geometry.white_matter_depth + geometry.cortex_thickness
    if lesion.depth_below_pia >= depth:
        raise ConfigError(f"lesion.depth_below_pia = {lesion.depth_below_pia} must lie inside the "
                          f"section: allowed [0, {depth}) mm")


def _check_sulci(geometry: GeometryParameters) -> None:
    deepest = geometry.white_matter_depth - geometry.mesh_size
    if geometry.sulcus_depth >= deepest:
        raise ConfigError(f"geometry.sulcus_depth = {geometry.sulcus_depth} must be less than "
                          f"white_matter_depth - mesh_size = {deepest:g} mm: the grey-white junction "
                          f"follows the pia down and must stay above the bottom")
    spacing = geometry.width / geometry.sulcus_count
    widest = spacing / 8.0
    if geometry.sulcus_width > widest:
        raise ConfigError(f"geometry.sulcus_width = {geometry.sulcus_width} is too wide for "
                          f"sulcus_count = {geometry.sulcus_count} sulci in width = {geometry.width}: "
                          f"allowed (0, {widest:g}] mm (width / (8 sulcus_count), so the pia is flat "
                          f"at the section's sides)")


def _check_ventricle(geometry: GeometryParameters) -> None:
    largest = min(geometry.white_matter_depth, geometry.width / 2) - geometry.mesh_size
    if geometry.ventricle_radius >= largest:
        raise ConfigError(f"geometry.ventricle_radius = {geometry.ventricle_radius} must be less than "
                          f"{largest:g} mm (inside the white matter, mesh_size clear of the cortex "
                          f"and the sides)")


def _check_seed_outside_ventricle(geometry: GeometryParameters, lesion: LesionParameters) -> None:
    height = geometry.white_matter_depth + geometry.cortex_thickness
    offset = math.hypot(lesion.centre_x - geometry.width / 2, height - lesion.depth_below_pia)
    if offset <= geometry.ventricle_radius:
        raise ConfigError(f"lesion.centre_x = {lesion.centre_x}, depth_below_pia = "
                          f"{lesion.depth_below_pia} put the lesion centre inside the ventricle "
                          f"(radius {geometry.ventricle_radius} mm around x = {geometry.width / 2:g}, "
                          f"y = 0)")


def _check_mni_region(geometry: GeometryParameters) -> None:
    for name in ("mni_region_centre", "mni_region_size"):
        if len(getattr(geometry, name)) != 3:
            raise ConfigError(f"geometry.{name}: expected 3 numbers [x, y, z] (MNI mm), "
                              f"got {getattr(geometry, name)}")
    cells = mni_cell_bound(geometry)
    if cells > MAX_VOXEL_CELLS:
        raise ConfigError(f"geometry.mesh_size = {geometry.mesh_size} over geometry.mni_region_size = "
                          f"{geometry.mni_region_size} allows up to {cells:.3g} cells, more than "
                          f"{MAX_VOXEL_CELLS:.0e} (rank 0 assembles the voxel mesh): coarsen mesh_size "
                          f"or shrink the region")


def _check_mni_seed(geometry: GeometryParameters, lesion: LesionParameters) -> None:
    axis, _ = mni_axes(geometry.kind, geometry.mni_slice_axis)
    centre, size = geometry.mni_region_centre[axis], geometry.mni_region_size[axis]
    low, high = centre - size / 2, centre + size / 2
    if not (low < lesion.centre_x < high):
        raise ConfigError(f"lesion.centre_x = {lesion.centre_x} is the MNI {WORLD_AXES[axis]} coordinate "
                          f"of the seed for {geometry.kind}: allowed ({low:g}, {high:g}) mm, the region box")
