"""Paramagnetic rim lesions (PRL): a phase rim of iron (held by microglia/macrophages) around a T2 lesion's edge.

For each T2 lesion (its extent: the thresholded voxels and what they enclose, so a centre that
lost tissue and went dark on FLAIR still belongs to it), the *edge band* is the tissue within ``prl_edge_width`` (at least one
voxel) of its border, on either side; the lesion's *interior* is the rest of it. Band voxels
whose phase exceeds the visibility threshold are rim voxels. The lesion is a PRL when

* it has at least ``prl_min_rim_voxels`` rim voxels,
* the rim covers at least ``prl_min_edge_coverage`` of the edge: the edge is divided into
  direction sectors seen from the lesion's centroid (8 in a slice, 26 in 3D) and the
  fraction of sectors holding a rim voxel is counted (the "≥ 2/3 of the lesion edge" rule),
* the rim stands out from the core: the lesion has an interior and the mean phase of the
  rim exceeds that of the interior. A uniformly paramagnetic lesion (a filled acute lesion)
  is not a rim, and a lesion too small to have an interior at this voxel size cannot be
  judged to have one.

A rim too thin or too sparse to lift a voxel's average above the threshold is not seen:
the partial-volume averaging of the scan decides visibility, as it does for a scanner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from rimmodel.mri.lesions import label_lesions, lesion_extent
from rimmodel.mri.scans import ScanSeries

_IN_TISSUE = 0.5  # a voxel at least half tissue can hold a rim


@dataclass(frozen=True)
class RimAssessment:
    """One T2 lesion's phase rim."""

    lesion_volume: float   # mm^3
    rim_voxels: int
    edge_coverage: float   # fraction of edge direction sectors with a rim voxel
    rim_phase: float       # mean phase over rim voxels (nan: none)
    core_phase: float      # mean phase over the lesion's interior (nan: no interior)
    is_prl: bool


def assess_rims(scans: ScanSeries, index: int) -> tuple[list[RimAssessment], np.ndarray]:
    """Every T2 lesion of scan ``index`` assessed for a rim, and the mask of PRL rim voxels."""
    params, grid = scans.params, scans.grid
    phase = scans.images["phase"][index]
    visible = phase >= params.rim_visibility_threshold
    width = max(params.prl_edge_width, max(grid.spacing[:grid.dimension]))
    labels, count = label_lesions(lesion_extent(scans, index))
    assessments, prl_rims = [], np.zeros(grid.shape, dtype=bool)
    for label in range(1, count + 1):
        lesion = labels == label
        depth_inside = ndimage.distance_transform_edt(lesion, sampling=grid.spacing)
        distance_outside = ndimage.distance_transform_edt(~lesion, sampling=grid.spacing)
        core = depth_inside > width
        in_tissue = scans.tissue_fraction >= _IN_TISSUE
        band = ((lesion & ~core) | (~lesion & (distance_outside <= width))) & in_tissue
        rim = band & visible
        rim_phase = float(phase[rim].mean()) if rim.any() else np.nan
        core_phase = float(phase[core].mean()) if core.any() else np.nan
        coverage = _edge_coverage(band, rim, lesion, grid.spacing, grid.dimension)
        is_prl = bool(rim.sum() >= params.prl_min_rim_voxels and coverage >= params.prl_min_edge_coverage
                      and core.any() and rim_phase > core_phase)
        if is_prl:
            prl_rims |= rim
        assessments.append(RimAssessment(float(lesion.sum() * grid.voxel_volume), int(rim.sum()),
                                         coverage, rim_phase, core_phase, is_prl))
    return assessments, prl_rims


def _edge_coverage(band, rim, lesion, spacing, dimension) -> float:
    """Fraction of the direction sectors around the lesion's centroid in which the rim is present."""
    index = np.indices(lesion.shape).reshape(3, -1).T
    position = index * np.asarray(spacing)
    centroid = position[lesion.ravel()].mean(axis=0)
    sectors = _sector(position - centroid, dimension)
    band_sectors = set(sectors[band.ravel()].tolist()) - {-1}
    rim_sectors = set(sectors[rim.ravel()].tolist()) - {-1}
    return len(rim_sectors) / len(band_sectors) if band_sectors else 0.0


def _sector(offsets: np.ndarray, dimension: int) -> np.ndarray:
    """Direction sector of each offset: 8 angular sectors in-plane, or the nearest of 26 directions in 3D."""
    if dimension == 2:
        angle = np.arctan2(offsets[:, 1], offsets[:, 0])
        sector = np.floor((angle + np.pi) / (np.pi / 4)).astype(int) % 8
    else:
        directions = np.array([d for d in np.ndindex(3, 3, 3) if d != (1, 1, 1)], dtype=float) - 1.0
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        sector = (offsets @ directions.T).argmax(axis=1)
    return np.where(np.linalg.norm(offsets, axis=1) > 1e-9, sector, -1)
