"""Brain volume as a SIENAX-like pipeline measures it on the synthetic T1, and its change per year.

Each voxel's brain (parenchymal) fraction is read from T1 with a two-compartment partial-volume
model, brain against CSF-like fluid:

  b = clip((T1 - T1_fluid) / (T1_ref - T1_fluid), 0, 1)

where ``T1_ref`` is the normal intensity of the voxel's tissue classes (white matter 1,
cortex ``t1_cortex``, weighted by their shares of the voxel: the segmentation of the
geometry, fixed over time) and ``T1_fluid`` is ``t1_background``. A healthy voxel reads
exactly its tissue share; fluid that replaced resorbed tissue lowers T1 and is read as lost
volume. T2 lesion voxels are *lesion-filled* first (read as normal tissue), as MS atrophy
pipelines do so that the intrinsic T1 darkening of demyelinated tissue is not taken for
atrophy; tissue whose loss has taken it out of the FLAIR lesion is therefore read from T1,
intrinsic darkening included (docs/mri.md, Limitations).

The percentage brain volume change (PBVC) between successive scans is annualised,
``100 (V_n / V_{n-1} - 1) / (t_n - t_{n-1})`` in %/yr, for the whole tissue and for the
cortex. In a 2D run or a small 3D block the percentages are of the modelled tissue, not of
a whole brain.
"""

from __future__ import annotations

import math

import numpy as np

from rimmodel.mri.lesions import lesion_mask
from rimmodel.mri.scans import ScanSeries


def brain_fraction(scans: ScanSeries, index: int) -> np.ndarray:
    """Per voxel, the share read as brain in scan ``index`` (grid.shape, in [0, 1])."""
    params = scans.params
    inside = scans.tissue_fraction
    cortex = scans.cortex_fraction if scans.cortex_fraction is not None else np.zeros_like(inside)
    in_tissue = inside > 0
    reference = np.where(in_tissue, ((inside - cortex) * 1.0 + cortex * params.t1_cortex)
                         / np.where(in_tissue, inside, 1.0), 1.0)
    contrast = reference - params.t1_background
    read = np.clip((scans.images["t1"][index] - params.t1_background) / contrast, 0.0, 1.0)
    filled = lesion_mask(scans, index)
    return np.where(in_tissue, np.where(filled, inside, read), 0.0)


def brain_volumes(scans: ScanSeries, index: int) -> tuple[float, float]:
    """(brain, cortical) volume in mm^3 read from scan ``index``."""
    fraction = brain_fraction(scans, index)
    inside = scans.tissue_fraction
    cortex = scans.cortex_fraction if scans.cortex_fraction is not None else np.zeros_like(inside)
    cortical_share = np.divide(cortex, inside, out=np.zeros_like(inside), where=inside > 0)
    voxel = scans.grid.voxel_volume
    return float(fraction.sum() * voxel), float((fraction * cortical_share).sum() * voxel)


def percent_change_per_year(times: np.ndarray, volumes: np.ndarray) -> np.ndarray:
    """Annualised change since the previous scan, %/yr (nan at the first scan and where V = 0)."""
    times, volumes = np.asarray(times, float), np.asarray(volumes, float)
    change = np.full(len(volumes), math.nan)
    for n in range(1, len(volumes)):
        if volumes[n - 1] > 0 and times[n] > times[n - 1]:
            change[n] = 100.0 * (volumes[n] / volumes[n - 1] - 1.0) / (times[n] - times[n - 1])
    return change


def annualised_change(times: np.ndarray, volumes: np.ndarray) -> float:
    """PBVC from the first to the last scan divided by the years between them, %/yr (nan: one scan)."""
    times, volumes = np.asarray(times, float), np.asarray(volumes, float)
    if len(times) < 2 or times[-1] <= times[0] or volumes[0] <= 0:
        return math.nan
    return float(100.0 * (volumes[-1] / volumes[0] - 1.0) / (times[-1] - times[0]))
