"""Nonlinear registration of two scans (demons) and the Jacobian determinant of the deformation.

The displacement ``u`` (in voxels) maps the earlier scan onto the later one:
``earlier(x) ≈ later(x + u(x))``, so tissue at ``x`` has moved to ``x + u(x)`` and
``det(I + ∇u) > 1`` where it expanded. The update at each iteration is Thirion's demons
force, ``-(later∘φ - earlier) ∇(later∘φ) / (|∇(later∘φ)|² + (later∘φ - earlier)²)``,
and the field is smoothed by a Gaussian (diffusion-like regularisation). Inside a
uniform lesion there is no image force: the smoothing carries the boundary's motion
inwards, which is what makes a growing lesion's interior read as expanding.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

_FORCE_FLOOR = 1e-9  # no update where the image has neither gradient nor mismatch


def demons(earlier: np.ndarray, later: np.ndarray, iterations: int, smoothing: float) -> np.ndarray:
    """Displacement (ndim, *shape) in voxels taking ``earlier`` onto ``later`` (2D or 3D arrays)."""
    identity = np.indices(earlier.shape, dtype=float)
    displacement = np.zeros_like(identity)
    for _ in range(iterations):
        warped = ndimage.map_coordinates(later, identity + displacement, order=1, mode="nearest")
        mismatch = warped - earlier
        gradient = np.array(np.gradient(warped))
        scale = (gradient**2).sum(axis=0) + mismatch**2
        force = np.where(scale > _FORCE_FLOOR, -mismatch / np.maximum(scale, _FORCE_FLOOR), 0.0)
        displacement += force * gradient
        displacement = np.array([ndimage.gaussian_filter(c, smoothing, mode="nearest") for c in displacement])
    return displacement


def jacobian_determinant(displacement: np.ndarray) -> np.ndarray:
    """det(I + ∇u) at every voxel (u in voxels, so the result is independent of the voxel size)."""
    ndim = displacement.shape[0]
    jacobian = np.empty((*displacement.shape[1:], ndim, ndim))
    for i in range(ndim):
        derivatives = np.gradient(displacement[i])
        for j in range(ndim):
            jacobian[..., i, j] = derivatives[j] + (i == j)
    return np.linalg.det(jacobian)
