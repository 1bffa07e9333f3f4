"""T2 lesions as a radiologist counts them: thresholded voxels, connected lesions, new and enlarging ones.

Lesions are face-connected components of the thresholded T2 image (6-connectivity in 3D,
4 in-plane for a single slice). Between two successive (co-registered: the synthetic
scans share one grid) scans:

* a **new** lesion is a component of the later scan that overlaps no lesion of the
  earlier one and has at least ``new_lesion_min_voxels`` voxels;
* an **enlarging** lesion overlaps earlier lesion and grew by at least
  ``enlarging_fraction`` of the earlier volume *and* by at least ``enlarging_min_volume``
  mm^3 (the absolute floor keeps partial-volume flicker of small lesions from counting).

Trials report new and enlarging T2 lesions together as one count per scan interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from rimmodel.mri.contrasts import t2_lesion_level
from rimmodel.mri.parameters import MRIParameters
from rimmodel.mri.scans import ScanSeries

FACE_CONNECTED = ndimage.generate_binary_structure(3, 1)  # a single slice has no z neighbours to join


def lesion_mask(scans: ScanSeries, index: int) -> np.ndarray:
    """Voxels read as T2 lesion in scan ``index``."""
    return scans.images["t2"][index] >= t2_lesion_level(scans.params)


def lesion_extent(scans: ScanSeries, index: int) -> np.ndarray:
    """T2 lesions as a reader outlines them on FLAIR and T1 together.

    Tissue lost from a lesion's centre is replaced by fluid, dark on FLAIR, so the thresholded
    lesion thins to a ring or a crescent around a T1-dark core. The extent is every connected
    region of FLAIR lesion and T1-dark white matter (T1 <= ``black_hole_threshold``) that holds
    FLAIR lesion, with what it encloses: the lesion a PRL or black hole is judged on. The T2
    lesion volume is the FLAIR-thresholded voxels only. A single slice is filled in-plane.
    """
    flair = lesion_mask(scans, index)
    inside = scans.tissue_fraction
    cortex = scans.cortex_fraction if scans.cortex_fraction is not None else np.zeros_like(inside)
    white_matter = (inside >= 0.5) & (cortex < 0.5 * inside)
    dark = white_matter & (scans.images["t1"][index] <= scans.params.black_hole_threshold)
    labels, _ = label_lesions(flair | dark)
    extent = np.isin(labels, np.unique(labels[flair & (labels > 0)]))
    if scans.grid.dimension == 2:
        return np.stack([ndimage.binary_fill_holes(extent[:, :, k]) for k in range(extent.shape[2])], axis=2)
    return ndimage.binary_fill_holes(extent)


def black_hole_mask(scans: ScanSeries, index: int) -> np.ndarray:
    """T1 black holes: voxels within the T2 lesions' extent at or below the black-hole T1 level."""
    return lesion_extent(scans, index) & (scans.images["t1"][index] <= scans.params.black_hole_threshold)


def label_lesions(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Connected lesions: labels 1..count (0 = not lesion)."""
    labels, count = ndimage.label(mask, structure=FACE_CONNECTED)
    return labels, count


@dataclass(frozen=True)
class LesionChange:
    new: int
    enlarging: int

    @property
    def new_or_enlarging(self) -> int:
        return self.new + self.enlarging


def lesion_change(earlier: np.ndarray, later: np.ndarray, voxel_volume: float,
                  params: MRIParameters) -> LesionChange:
    """New and enlarging lesions from the ``earlier`` to the ``later`` lesion mask."""
    earlier_labels, _ = label_lesions(earlier)
    later_labels, count = label_lesions(later)
    new = enlarging = 0
    for label in range(1, count + 1):
        lesion = later_labels == label
        overlapped = np.unique(earlier_labels[lesion])
        overlapped = overlapped[overlapped > 0]
        if overlapped.size == 0:
            new += int(lesion.sum() >= params.new_lesion_min_voxels)
            continue
        before = np.isin(earlier_labels, overlapped).sum() * voxel_volume
        growth = lesion.sum() * voxel_volume - before
        enlarging += int(growth > 0 and growth >= params.enlarging_fraction * before
                         and growth >= params.enlarging_min_volume)
    return LesionChange(new, enlarging)
