"""Meningeal follicles as a density map phi(x) >= 0 on the pial boundary."""

from __future__ import annotations

import numpy as np

from rimmodel.config.parameters import FolliclePatch


def follicle_density(points: np.ndarray, patches: list[FolliclePatch]) -> np.ndarray:
    """Sum of Gaussian patches, evaluated at points of shape (3, n).

    phi is only ever integrated over the pial facets, so its values inside the
    tissue do not matter.
    """
    density = np.zeros(points.shape[1])
    for patch in patches:
        centre = np.asarray(patch.centre, dtype=float)
        distance2 = np.sum((points[:centre.size].T - centre) ** 2, axis=1)
        density += patch.density * np.exp(-0.5 * distance2 / patch.width**2)
    return density
