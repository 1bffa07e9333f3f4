"""Slowly expanding lesions (SEL) from the Jacobian of successive T2 registrations (Elliott et al. 2019).

Elliott's definition: contiguous regions of *pre-existing* T2 lesion showing *concentric*
and *constant* local expansion, measured by the Jacobian determinant of a nonlinear
registration between scans, at least 10 contiguous voxels (~30 mm^3 at their voxel size).
Our operationalisation, over ``sel_scans`` successive scans (a baseline and its follow-ups):

1. register each scan to the next (demons, ``registration.py``) and turn each Jacobian
   determinant J into an annual local expansion ``J^(1/Δt) - 1``;
2. *pre-existing and constant*: baseline-lesion voxels whose expansion reaches
   ``sel_min_expansion_rate`` in **every** interval;
3. *contiguous*: face-connected regions of those voxels, each of ``sel_min_voxels`` or more;
4. *concentric*: in each region, the deformation points outward from the lesion — the
   displacement-weighted mean cosine between the summed displacement and the outward normal
   of the baseline lesion reaches ``sel_min_concentricity``.

Elliott et al. combined these properties in a heuristic score; the thresholds here are
documented assumptions (docs/mri.md), not their published values.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy import ndimage

from rimmodel.mri.lesions import label_lesions, lesion_mask
from rimmodel.mri.registration import demons, jacobian_determinant
from rimmodel.mri.scans import ScanSeries

_NORMAL_SMOOTHING = 1.0  # voxels: the distance to the lesion border is smoothed before taking its gradient
_BORDER_DEPTH = 1.0      # mm: concentricity is judged on lesion voxels this close to the border


@dataclass(frozen=True)
class SELAssessment:
    """SEL over the scans ``first`` .. ``last`` (indices into the scan series)."""

    first: int
    last: int
    count: int
    volume: float                 # mm^3 of SEL voxels
    candidate_volume: float       # mm^3 of pre-existing lesion expanding in every interval
    expansion_rate: float         # mean annual local expansion over the SEL voxels (nan: none)
    concentricity: list[float]    # per candidate region of sufficient size
    mask: np.ndarray              # grid.shape, SEL voxels


def register_successive(scans: ScanSeries) -> list[np.ndarray]:
    """Displacement (voxels) from each scan's T2 to the next one's: ``len(scans) - 1`` fields."""
    params, dimension = scans.params, scans.grid.dimension
    t2 = [_plane(image, dimension) for image in scans.images["t2"]]
    smoothing = params.registration_smoothing / scans.grid.spacing[0]  # in voxels (isotropic in-plane)
    return [demons(earlier, later, params.registration_iterations, smoothing) for earlier, later in pairwise(t2)]


def detect_sel(scans: ScanSeries, first: int, registrations: list[np.ndarray] | None = None) -> SELAssessment:
    """SEL with scan ``first`` as the baseline and the next ``sel_scans - 1`` as follow-ups.

    ``registrations``: the output of :func:`register_successive`, to share it between windows.
    """
    params, grid = scans.params, scans.grid
    last = first + params.sel_scans - 1
    if last >= len(scans):
        raise ValueError(f"SEL needs {params.sel_scans} scans from index {first}; the series has {len(scans)}")
    if registrations is None:
        registrations = register_successive(scans)
    baseline = lesion_mask(scans, first)
    rates, displacement = [], 0.0
    for i in range(first, last):
        u = registrations[i]
        years = scans.times[i + 1] - scans.times[i]
        rates.append(np.clip(jacobian_determinant(u), 1e-6, None) ** (1.0 / years) - 1.0)
        displacement = displacement + u
    sustained = _volume(np.min(rates, axis=0), grid.dimension)
    candidates = baseline & (sustained >= params.sel_min_expansion_rate)
    concentric = _concentricity_of(baseline, displacement, grid)
    regions, count = label_lesions(candidates)
    mask, kept, scores = np.zeros(grid.shape, dtype=bool), 0, []
    for label in range(1, count + 1):
        region = regions == label
        if region.sum() < params.sel_min_voxels:
            continue
        scores.append(concentric(region))
        if scores[-1] >= params.sel_min_concentricity:
            mask |= region
            kept += 1
    mean_rate = float(_volume(np.mean(rates, axis=0), grid.dimension)[mask].mean()) if kept else np.nan
    return SELAssessment(first, last, kept, float(mask.sum() * grid.voxel_volume),
                         float(candidates.sum() * grid.voxel_volume), mean_rate, scores, mask)


def _concentricity_of(baseline, displacement, grid):
    """A function: region mask -> how concentrically the lesion border moves in that region.

    Measured on the region's voxels near the baseline lesion's border (within ``_BORDER_DEPTH``
    or one voxel), where the outward normal is defined: the displacement-weighted mean cosine
    between displacement and normal. 1 is purely outward, 0 tangential, -1 inward. Deeper
    voxels are left out: there the normal is ill-defined and a lesion growing faster on one
    side (away from the cortex) shows a net shift that is not a lack of concentricity.
    """
    plane = _plane(baseline, grid.dimension)
    spacing = grid.spacing[:plane.ndim]
    depth = ndimage.distance_transform_edt(plane, sampling=spacing)
    near_border = _volume((depth > 0) & (depth <= max(_BORDER_DEPTH, max(spacing))), grid.dimension)
    outward = -np.array(np.gradient(ndimage.gaussian_filter(depth, _NORMAL_SMOOTHING)))
    outward /= np.maximum(np.linalg.norm(outward, axis=0), 1e-12)
    along = _volume((displacement * outward).sum(axis=0), grid.dimension)
    length = _volume(np.linalg.norm(displacement, axis=0), grid.dimension)

    def concentricity(region: np.ndarray) -> float:
        border = region & near_border
        total = length[border].sum()
        return float(along[border].sum() / total) if total > 0 else 0.0

    return concentricity


def _plane(volume: np.ndarray, dimension: int) -> np.ndarray:
    """The array registration works on: the single slice of a 2D run, else the volume."""
    return volume[..., 0] if dimension == 2 else volume


def _volume(plane: np.ndarray, dimension: int) -> np.ndarray:
    """Back to the grid's (x, y, z) shape."""
    return plane[..., None] if dimension == 2 else plane
