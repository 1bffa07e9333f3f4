"""Brain tissue cut from nilearn's MNI152 templates: a 2D slice (mni_slice) or a 3D block (mni_brain).

Route (measured against the alternatives in meshes/README.md): the grey- and
white-matter probability templates and the brain mask (nilearn ships them, 1 or
2 mm) are resampled trilinearly onto a grid of ``mesh_size`` voxels covering the
region box, thresholded into tissue labels and meshed voxel by voxel
(:mod:`rimmodel.geometry.voxel_mesh`). Coordinates are MNI millimetres, through
the templates' NIfTI affine.

Tissue: brain mask >= 0.5 and P(grey) + P(white) >= 0.5 (CSF excluded, so the
ventricles are cavities); white matter where P(white) >= P(grey), grey matter
(tagged cortex, deep grey nuclei included) elsewhere. Only the largest connected
piece of tissue is kept, and stray islands of one tissue are given to the other,
so each tissue is one connected region. Facets: grey matter facing outside CSF is
pial; any tissue facing a ventricle (an enclosed CSF cavity of 1 mL or more in
the whole brain) is ventricle; box cuts and exposed white matter are outer.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from rimmodel.config.geometry_checks import mni_axes
from rimmodel.config.parameters import GeometryParameters
from rimmodel.config.spec import ConfigError
from rimmodel.fem import MPI
from rimmodel.geometry.domain import CORTEX, OUTER, PIAL, VENTRICLE, WHITE_MATTER, Domain
from rimmodel.geometry.seed import VerticalRay, seeded_domain
from rimmodel.geometry.voxel_mesh import voxel_mesh

THRESHOLD = 0.5
MIN_VENTRICLE_VOLUME = 1000.0  # mm^3: lateral ventricles ~17 mL in the template, sulcal pockets < 0.2 mL
EXTERIOR, CAVITY = 0, -1  # empty-space codes in the label grid


def mni_slice(params: GeometryParameters, comm=MPI.COMM_WORLD) -> Domain:
    """Triangles; mesh coordinates are the slice's two in-plane MNI coordinates."""
    return _domain(params, comm, "mni_slice", VerticalRay(0, 1))


def mni_brain(params: GeometryParameters, comm=MPI.COMM_WORLD) -> Domain:
    """Tetrahedra in MNI x, y, z; seeds descend from above in the region's central coronal plane."""
    return _domain(params, comm, "mni_brain", VerticalRay(0, 2, {1: params.mni_region_centre[1]}))


def _domain(params: GeometryParameters, comm, name: str, ray: VerticalRay) -> Domain:
    failure, labels, origin = None, None, None
    if comm.rank == 0:
        try:
            labels, origin = tissue_labels(params)
        except Exception as error:  # raised again on every rank, so none waits forever
            failure = error
    failure = comm.bcast(failure, root=0)
    if failure is not None:
        raise failure
    msh, cell_tags, facet_tags = voxel_mesh(comm, labels, origin, params.mesh_size, facet_tag)
    return seeded_domain(msh, cell_tags, facet_tags, name, ray)


def facet_tag(tissue: np.ndarray, neighbour: np.ndarray) -> np.ndarray:
    pial = (neighbour == EXTERIOR) & (tissue == CORTEX)
    return np.select([neighbour == CAVITY, pial], [VENTRICLE, PIAL], OUTER)


def tissue_labels(params: GeometryParameters) -> tuple[np.ndarray, np.ndarray]:
    """Label grid (white matter, cortex, EXTERIOR, CAVITY) and its lower corner (mesh coordinates)."""
    templates = load_templates(params.mni_resolution)
    axes, centres, origin = region_grid(params)
    index = _voxel_index(templates["affine"], centres)
    sampled = {name: ndimage.map_coordinates(templates[name], index, order=1, mode="constant")
               for name in ("brain", "grey", "white")}
    tissue = (sampled["brain"] >= THRESHOLD) & (sampled["grey"] + sampled["white"] >= THRESHOLD)
    tissue = _largest_piece(tissue.reshape(centres.shape[:-1]))
    if not tissue.any():
        raise ConfigError(f"geometry.mni_region_centre = {params.mni_region_centre}, mni_region_size = "
                          f"{params.mni_region_size}: the region holds no brain tissue")
    white = (sampled["white"] >= sampled["grey"]).reshape(tissue.shape)
    labels = np.where(tissue, np.where(white, WHITE_MATTER, CORTEX), EXTERIOR).astype(np.int8)
    _one_piece_per_tissue(labels)
    cavity = ndimage.map_coordinates(templates["cavity"], index, order=0, mode="constant") > 0.5
    labels[(labels == EXTERIOR) & cavity.reshape(labels.shape)] = CAVITY
    return labels, origin[axes]


def load_templates(resolution: int) -> dict[str, np.ndarray]:
    """nilearn's packaged MNI152 brain mask and grey/white probability maps (no download),
    and the ventricle cavities of the whole brain, widened by one voxel."""
    try:
        from nilearn import datasets
    except ImportError as error:
        raise ConfigError("geometry.kind = 'mni_slice' / 'mni_brain' needs nilearn (pip install nilearn); "
                          "its MNI152 templates come with the package") from error

    brain = datasets.load_mni152_brain_mask(resolution=resolution)
    maps = {"affine": brain.affine, "brain": np.asarray(brain.dataobj, dtype=float),
            "grey": np.asarray(datasets.load_mni152_gm_template(resolution=resolution).dataobj, dtype=float),
            "white": np.asarray(datasets.load_mni152_wm_template(resolution=resolution).dataobj, dtype=float)}
    tissue = (maps["brain"] >= THRESHOLD) & (maps["grey"] + maps["white"] >= THRESHOLD)
    spaces, _ = ndimage.label(~tissue)
    sizes = np.bincount(spaces.ravel())
    voxel_volume = abs(np.linalg.det(brain.affine[:3, :3]))
    outside = spaces[0, 0, 0]
    ventricles = np.flatnonzero(sizes * voxel_volume >= MIN_VENTRICLE_VOLUME)
    ventricles = ventricles[(ventricles != outside) & (ventricles != 0)]
    # one voxel wider: the resampled tissue edge may sit half a template voxel off the native one
    maps["cavity"] = ndimage.binary_dilation(np.isin(spaces, ventricles)).astype(float)
    return maps


def region_grid(params: GeometryParameters) -> tuple[list[int], np.ndarray, np.ndarray]:
    """World axes of the grid, MNI coordinates of its voxel centres (grid shape + (3,)) and of its corner."""
    h = params.mesh_size
    centre, size = np.array(params.mni_region_centre), np.array(params.mni_region_size)
    counts = np.maximum(np.round(size / h).astype(int), 1)
    corner = centre - counts * h / 2
    axes = [0, 1, 2]
    if params.kind == "mni_slice":  # one voxel thick, centred on the slice plane
        axes = list(mni_axes(params.kind, params.mni_slice_axis))
        normal = 3 - sum(axes)
        counts[normal], corner[normal] = 1, centre[normal] - h / 2
    lines = [corner[a] + h * (np.arange(counts[a]) + 0.5) for a in range(3)]
    centres = np.stack(np.meshgrid(*lines, indexing="ij"), axis=-1)
    return axes, centres.reshape(*[counts[a] for a in axes], 3), corner


def _voxel_index(affine: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Template voxel indices (3, n) of MNI points (..., 3), through the inverse NIfTI affine."""
    flat = points.reshape(-1, 3)
    return (np.linalg.inv(affine) @ np.vstack([flat.T, np.ones(len(flat))]))[:3]


def _largest_piece(mask: np.ndarray) -> np.ndarray:
    pieces, count = ndimage.label(mask)
    if count <= 1:
        return mask
    sizes = np.bincount(pieces.ravel())
    sizes[0] = 0
    return pieces == np.argmax(sizes)


def _one_piece_per_tissue(labels: np.ndarray) -> None:
    """Islands of white matter become grey and then islands of grey become white (in place).

    The tissue is connected, so a white island touches only grey; once white is one
    piece, a grey island touches only that white: neither step splits the other tissue.
    """
    for tissue, other in ((WHITE_MATTER, CORTEX), (CORTEX, WHITE_MATTER)):
        mask = labels == tissue
        labels[mask & ~_largest_piece(mask)] = other
