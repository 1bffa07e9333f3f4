"""Matplotlib time series of the observables of several runs."""

from __future__ import annotations

from pathlib import Path

from rimmodel.io.results import read_run

PANELS = (
    ("lesion_size", "lesion size"),
    ("lesion_equivalent_radius", "lesion equivalent radius (mm)"),
    ("expansion_rate", "expansion rate (mm/yr)"),
    ("rim_thickness", "rim thickness (mm)"),
    ("axon_loss", "axon loss"),
)


def plot_time_series(run_dirs: list[str | Path], labels: list[str], out_png: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [read_run(d) for d in run_dirs]
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.0 * len(PANELS), 3.4), constrained_layout=True)
    for ax, (name, title) in zip(axes, PANELS):
        for run, label in zip(runs, labels):
            unit = run.units.get(name, "")
            ax.plot(run.time, run.observables[name], marker="o", markersize=3, label=label)
            ax.set_ylabel(f"{title} ({unit})" if name in ("lesion_size", "axon_loss") else title)
        ax.set_xlabel("time (yr)")
        ax.grid(alpha=0.3)
    axes[0].legend()
    out_png = Path(out_png)
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return out_png
