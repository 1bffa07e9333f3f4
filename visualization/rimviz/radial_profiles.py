"""Matplotlib profiles of a radial (spherical) run: each layer against the distance from the lesion
centre, one curve per snapshot time. The run's own 1D fields, without the section's triangulation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rimmodel.io.field_series import read_fields as read_run_fields
from rimviz.layers import MICROGLIA_THRESHOLD, MYELIN_THRESHOLD, choose_layers

PANEL_INCHES = (4.2, 3.2)
COLUMNS = 3  # panels a row
THRESHOLDS = {"myelin": MYELIN_THRESHOLD, "myelin_loss": 1.0 - MYELIN_THRESHOLD, "microglia": MICROGLIA_THRESHOLD}


def plot_radial_profiles(run_dir: str | Path, layer_names, times: list[float], out_png: str | Path,
                         dpi: int = 110) -> Path:
    """One panel per layer: the layer against r (mm) at each of ``times`` (yr; nearest outputs)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = read_run_fields(run_dir)
    layers = choose_layers(layer_names, [run_dir], [run])
    order = np.argsort(run.points[:, 0])
    radius = run.points[order, 0]
    columns = min(COLUMNS, len(layers))
    rows = -(-len(layers) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(PANEL_INCHES[0] * columns, PANEL_INCHES[1] * rows),
                             constrained_layout=True, squeeze=False)
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(times)))
    for ax, layer in zip(axes.flat, layers):
        for t, colour in zip(times, colours):
            index = run.index_at(t)
            ax.plot(radius, layer.values(run, index)[order], color=colour, label=f"{run.times[index]:g} yr")
        if layer.name in THRESHOLDS:
            ax.axhline(THRESHOLDS[layer.name], color="0.5", lw=0.8, ls="--")
        ax.set_xlabel("distance from the lesion centre r (mm)")
        ax.set_title(layer.title, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(layers):]:
        ax.set_axis_off()
    axes.flat[0].legend(fontsize=8)
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=dpi)
    plt.close(fig)
    return out_png
