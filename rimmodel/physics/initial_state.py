"""The seeded lesion: a demyelinated, inflamed core with a smooth edge."""

from __future__ import annotations

import numpy as np

from rimmodel.config.parameters import LesionParameters
from rimmodel.physics.fields import FieldSet


def lesion_profile(points: np.ndarray, centre: np.ndarray, lesion: LesionParameters) -> np.ndarray:
    """1 inside the seeded core, 0 outside, a tanh edge of width ``edge_width`` (points: (3, n))."""
    dim = centre.size
    radius = np.linalg.norm(points[:dim].T - centre, axis=1)
    return 0.5 * (1.0 - np.tanh((radius - lesion.radius) / lesion.edge_width))


def initial_fields(points: np.ndarray, centre: np.ndarray, lesion: LesionParameters,
                   fields: FieldSet) -> dict[str, np.ndarray]:
    """Initial values of every field at the given points (shape (3, n)): each field's healthy
    value outside, its declared lesion-core value inside."""
    return fields.initial_values(lesion_profile(points, centre, lesion), lesion)
