"""Side-by-side comparison of several runs at one time (used by ``rimmodel demo``)."""

from __future__ import annotations

from pathlib import Path

from rimviz.fields import read_fields
from rimviz.layers import DEFAULT_LAYERS
from rimviz.render import PANEL, Grid, common_times


def render_comparison(run_dirs: list[str | Path], labels: list[str], out_png: str | Path,
                      layers=DEFAULT_LAYERS, time: float | None = None,
                      panel_size: tuple[int, int] = PANEL) -> Path:
    """One row per layer, one column per run, at ``time`` (default: the last common output); the
    same layers and colour limits as ``rimmodel compare`` draws for the same runs."""
    import imageio.v3 as iio

    t = common_times([read_fields(d) for d in run_dirs])[-1] if time is None else time
    grid = Grid(run_dirs, labels, layers, panel_size)
    out_png = Path(out_png)
    iio.imwrite(out_png, grid.draw(t))
    grid.close()
    return out_png
