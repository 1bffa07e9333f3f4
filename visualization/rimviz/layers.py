"""What can be drawn from a run: layers derived from the stored fields, with units and colour maps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from rimviz.fields import FieldSeries

MYELIN_THRESHOLD = 0.5     # lesion boundary, as observables.myelin_threshold
MICROGLIA_THRESHOLD = 0.1  # rim, as observables.microglia_threshold


@dataclass(frozen=True)
class Layer:
    name: str
    title: str                          # colour-bar title, with units
    cmap: str                           # perceptually uniform
    limits: tuple[float, float] | None  # fixed, or None: shared data limits over runs and frames
    values: Callable[[FieldSeries, int], np.ndarray]


def _field(name: str):
    return lambda series, index: series.values(name, index)


def _loss(name: str):
    return lambda series, index: 1.0 - series.values(name, index)


LAYERS = {
    "myelin_loss": Layer("myelin_loss", "myelin loss (fraction)", "cividis", (0.0, 1.0), _loss("myelin")),
    "microglia": Layer("microglia", "activated microglia (fraction of capacity)", "inferno", None,
                       _field("microglia")),
    "axon_loss": Layer("axon_loss", "axon loss (fraction)", "viridis", (0.0, 1.0), _loss("axons")),
    "myelin": Layer("myelin", "intact myelin (fraction)", "cividis", (0.0, 1.0), _field("myelin")),
    "axons": Layer("axons", "intact axons (fraction)", "viridis", (0.0, 1.0), _field("axons")),
    "mediator": Layer("mediator", "inflammatory mediator (normalised)", "magma", None, _field("mediator")),
    "follicle_factor": Layer("follicle_factor", "follicle factor (normalised)", "plasma", None,
                             _field("follicle_factor")),
}


def layer(name: str) -> Layer:
    if name not in LAYERS:
        raise ValueError(f"unknown layer {name!r}; choose from {', '.join(LAYERS)}")
    return LAYERS[name]


def shared_limits(chosen: Layer, runs: list[FieldSeries], frames: list[list[int]]) -> tuple[float, float]:
    """Fixed limits, or 0..max over every run and frame shown (consistent across an animation)."""
    if chosen.limits is not None:
        return chosen.limits
    high = max(float(np.max(chosen.values(s, i))) for s, indices in zip(runs, frames) for i in indices)
    return 0.0, max(high, 1e-12)
