"""Matplotlib time series of the observables of several runs."""

from __future__ import annotations

import math
from pathlib import Path

from rimmodel.io.results import read_run

PANELS = (
    ("lesion_size", "lesion size"),
    ("lesion_equivalent_radius", "lesion equivalent radius (mm)"),
    ("expansion_rate", "expansion rate (mm/yr)"),
    ("rim_thickness", "rim thickness (mm)"),
    ("axon_loss", "axon loss"),
)
PANEL_INCHES = (4.0, 3.4)


def plot_time_series(run_dirs: list[str | Path], labels: list[str], out_png: str | Path,
                     columns: int | None = None, dpi: int = 110) -> Path:
    """One panel per observable against time, all runs in each; ``columns`` panels a row (default:
    all in one row; the HTML report uses 3, so each panel stays readable at the page's width)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [read_run(d) for d in run_dirs]
    columns = columns or len(PANELS)
    rows = math.ceil(len(PANELS) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(PANEL_INCHES[0] * columns, PANEL_INCHES[1] * rows),
                             constrained_layout=True, squeeze=False)
    for ax, (name, title) in zip(axes.flat, PANELS):
        for run, label in zip(runs, labels):
            unit = run.units.get(name, "")
            ax.plot(run.time, run.observables[name], marker="o", markersize=3, label=label)
            ax.set_ylabel(f"{title} ({unit})" if name in ("lesion_size", "axon_loss") else title)
        ax.set_xlabel("time (yr)")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(PANELS):]:
        ax.set_axis_off()
    axes.flat[0].legend()
    out_png = Path(out_png)
    fig.savefig(out_png, dpi=dpi)
    plt.close(fig)
    return out_png
