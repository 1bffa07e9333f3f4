"""What can be drawn from a run: one layer per field the run recorded (``fields.json``), plus a loss
layer (1 - value) where the record declares one, with the record's label, colour map and limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rimviz.field_record import read_field_record

if TYPE_CHECKING:
    from rimviz.fields import FieldSeries

MYELIN_THRESHOLD = 0.5     # lesion boundary, as observables.myelin_threshold
MICROGLIA_THRESHOLD = 0.1  # rim, as observables.microglia_threshold
DEFAULT_LAYERS = ("myelin_loss", "microglia", "axon_loss")  # what demo, compare, render and report draw


@dataclass(frozen=True)
class Layer:
    name: str
    title: str                          # colour-bar title, with units
    cmap: str                           # perceptually uniform
    limits: tuple[float, float] | None  # fixed, or None: shared data limits over runs and outputs
    field: str                          # the stored field it is drawn from
    loss: bool = False                  # draws 1 - field
    floor: float | None = None          # the lowest value the layer can take, from the field's bounds

    def values(self, series: FieldSeries, index: int) -> np.ndarray:
        values = series.values(self.field, index)
        return 1.0 - values if self.loss else values


def layers_of(run_dir: str | Path) -> dict[str, Layer]:
    """{layer name: Layer} for every field in the run's record, loss layers right after their field."""
    layers = {}
    for entry in read_field_record(run_dir):
        drawing, (low, high) = entry["layer"], entry["bounds"]
        limits = tuple(drawing["limits"]) if drawing.get("limits") is not None else None
        layers[entry["name"]] = Layer(entry["name"], drawing["label"], drawing["cmap"], limits, entry["name"],
                                      floor=low)
        if drawing.get("loss"):
            loss = drawing["loss"]
            layers[loss["name"]] = Layer(loss["name"], loss["label"], drawing["cmap"], limits, entry["name"],
                                         loss=True, floor=None if high is None else 1.0 - high)
    return layers


def choose_layers(names, run_dirs, runs: list[FieldSeries]) -> list[Layer]:
    """The named layers, each of which every run must be able to draw; else a one-line error."""
    available = None
    for run_dir, series in zip(run_dirs, runs):
        drawable = {name: chosen for name, chosen in layers_of(run_dir).items() if chosen.field in series.names}
        available = drawable if available is None else {n: c for n, c in available.items() if n in drawable}
    chosen = []
    for name in names:
        if name not in available:
            raise ValueError(f"layer {name!r}: not drawable from {', '.join(str(d) for d in run_dirs)}; "
                             f"choose from {', '.join(available)}")
        chosen.append(available[name])
    return chosen


def shared_limits(chosen: Layer, runs: list[FieldSeries]) -> tuple[float, float]:
    """Fixed limits, or data limits over every output of every run: the same for a snapshot, an
    animation, a comparison and a report of the same runs. The low end is the field's lower bound
    when it has one (0 for concentrations), so a colour means the same amount everywhere."""
    if chosen.limits is not None:
        return chosen.limits
    stored = [chosen.values(s, i) for s in runs for i in range(s.times.size)]
    low = chosen.floor if chosen.floor is not None else min(float(np.min(v)) for v in stored)
    high = max(float(np.max(v)) for v in stored)
    return low, max(high, low + 1e-12)
