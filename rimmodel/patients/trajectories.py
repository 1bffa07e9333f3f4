"""The narrow interface between patients and the lesion model: ``LesionTrajectories``.

Given a lesion class (location, rim or inactive, the occupancy course it lives under, the
parameter draw) and initial sizes, an implementation returns each lesion's course in 3D terms:
edge radius (mm), volume, rim volume, axon loss, tissue loss and iron-rim volume (mm^3) at the
requested times. A lesion is given by its radius at its own age (a baseline lesion may be years
old at randomisation): its course is read from that age on. It also returns the cortical damage
beneath one mm^2 of follicle-covered pia. ``library.SectionLibrary`` implements it with cached 2D
section runs, ``radial.RadialTrajectories`` with batched radial (spherical) runs for white-matter
lesions and sections for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Protocol

import numpy as np

from rimmodel.patients.occupancy import OccupancyCourse

LOCATIONS = ("white_matter", "juxtacortical", "periventricular")


@dataclass(frozen=True)
class LesionClass:
    """Everything a lesion course depends on except its size."""

    location: str
    rim: bool
    course: OccupancyCourse
    draw: int


@dataclass(frozen=True)
class CortexClass:
    course: OccupancyCourse
    draw: int


@dataclass
class LesionCourses:
    """Arrays of shape (lesions, times)."""

    edge_radius: np.ndarray   # mm
    volume: np.ndarray        # mm^3
    rim_volume: np.ndarray    # mm^3 of activated microglia around the lesion
    axon_loss: np.ndarray     # mm^3 of axons lost (integral of 1 - a)
    tissue_loss: np.ndarray   # mm^3 of parenchyma replaced by fluid
    iron_volume: np.ndarray   # mm^3 with iron-laden microglia above threshold (phase-rim proxy)


@dataclass
class CortexCourse:
    """Per mm^2 of follicle-covered pia, arrays of shape (times,)."""

    axon_loss: np.ndarray     # mm^3 / mm^2
    tissue_loss: np.ndarray   # mm^3 / mm^2


@dataclass
class BuildReport:
    runs: int = 0             # lesion runs this call solved
    cached: int = 0           # entries found in the cache
    wall_s: float = 0.0
    by_model: dict = field(default_factory=dict)   # "radial" / "section" -> the same three numbers


class LesionTrajectories(Protocol):
    horizon: float            # yr: the latest time a course can be asked for

    def ensure(self, lesions: Iterable[LesionClass], cortices: Iterable[CortexClass], comm) -> BuildReport:
        """Make every course queryable (solving what is missing). Collective."""

    def lesions(self, kind: LesionClass, radius: np.ndarray, times: np.ndarray, age=0.0) -> LesionCourses:
        """Courses of lesions whose equivalent radius is ``radius`` (mm) at their own ``age`` (yr since they
        formed; scalar or one per lesion), at ``age + times``. With ``age = 0``, ``radius`` is the seed's."""

    def cortex(self, kind: CortexClass, times: np.ndarray) -> CortexCourse:
        """Cortical damage under one mm^2 of follicle-covered pia at ``times`` (yr)."""


def sphere_volume(radius: np.ndarray) -> np.ndarray:
    return 4.0 / 3.0 * np.pi * np.asarray(radius) ** 3


def sphere_radius(volume: np.ndarray) -> np.ndarray:
    return np.cbrt(3.0 * np.asarray(volume) / (4.0 * np.pi))
