"""Corner plot, prior vs posterior per parameter, posterior-predictive checks per observation."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _short(name: str) -> str:
    return name.split(".", 1)[-1].replace("_", " ")


def corner_plot(path: Path, names: list[str], draws: np.ndarray, log_axes: list[bool]) -> Path:
    import corner

    plt = _pyplot()
    shown = np.where(log_axes, np.log10(np.maximum(draws, 1e-300)), draws)
    labels = [f"log10 {_short(n)}" if log else _short(n) for n, log in zip(names, log_axes)]
    figure = corner.corner(shown, labels=labels, quantiles=[0.05, 0.5, 0.95], show_titles=True,
                           title_fmt=".3g", title_kwargs={"fontsize": 8}, label_kwargs={"fontsize": 8})
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def prior_posterior_plot(path: Path, names: list[str], prior: np.ndarray, posterior: np.ndarray,
                         log_axes: list[bool]) -> Path:
    plt = _pyplot()
    columns = min(3, len(names))
    rows = int(np.ceil(len(names) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 2.6 * rows), squeeze=False,
                                constrained_layout=True)
    for j, name in enumerate(names):
        ax = axes.flat[j]
        transform = np.log10 if log_axes[j] else (lambda x: x)
        low, high = transform(prior[:, j]).min(), transform(prior[:, j]).max()
        bins = np.linspace(low, high, 40)
        ax.hist(transform(prior[:, j]), bins, density=True, color="0.75", label="prior")
        ax.hist(transform(posterior[:, j]), bins, density=True, alpha=0.7, color="tab:blue", label="posterior")
        ax.set_xlabel(("log10 " if log_axes[j] else "") + _short(name), fontsize=8)
        ax.tick_params(labelsize=7)
        if j == 0:
            ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def predictive_plot(path: Path, checks) -> Path:
    """One row per observation: the observed 90 % interval (black) against the model's (blue) and a
    new measurement's (light blue), each scaled by the observed value."""
    plt = _pyplot()
    figure, ax = plt.subplots(figsize=(7.5, 0.55 * len(checks) + 1.2), constrained_layout=True)
    for row, c in enumerate(checks):
        o, scale = c.observation, abs(c.observation.value) or 1.0
        y = len(checks) - 1 - row
        ax.plot(np.array(c.measurement) / scale, [y, y], color="lightsteelblue", lw=7, solid_capstyle="butt")
        ax.plot(np.array([c.model[0], c.model[2]]) / scale, [y, y], color="tab:blue", lw=3)
        ax.plot(c.model[1] / scale, y, "o", color="tab:blue")
        if not o.lower_bound_only:
            ax.plot(np.array(o.interval) / scale, [y - 0.22, y - 0.22], color="k", lw=1.5)
        ax.plot(o.value / scale, y - 0.22, "k|", ms=10)
    ax.set_yticks(range(len(checks))[::-1],
                  [f"{c.observation.id} ({c.observation.role[:5]}.)" for c in checks], fontsize=8)
    ax.set_xlabel("value / observed value (a one-sided target at 0: the value itself)", fontsize=8)
    ax.set_title("black: observed 90 %   blue: model 90 %   light: new measurement 90 %", fontsize=8)
    ax.axvline(1.0, color="0.6", lw=0.5)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
