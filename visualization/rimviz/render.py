"""Snapshots (PNG) and animations (GIF, MP4) of one or several runs, frames synchronised in time.

A grid: one row per layer, one column per run; colour limits are shared along a row
and across all frames, so panels and frames can be compared by eye.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rimviz.fields import FieldSeries, read_fields
from rimviz.layers import layer, shared_limits
from rimviz.scene import draw_panel

PANEL = (480, 400)  # pixels per panel (multiples of 16 keep video encoders happy)


def common_times(runs: list[FieldSeries], time_range: tuple[float, float] | None = None) -> list[float]:
    """Output times present in every run (within the range), in order."""
    shared = set(np.round(runs[0].times, 9))
    for series in runs[1:]:
        shared &= set(np.round(series.times, 9))
    low, high = time_range if time_range else (-np.inf, np.inf)
    return sorted(t for t in shared if low - 1e-9 <= t <= high + 1e-9)


class Grid:
    """A reusable off-screen plotter drawing runs × layers at a given time."""

    def __init__(self, run_dirs: list[str | Path], labels: list[str] | None, layer_names: list[str],
                 times: list[float], panel: tuple[int, int] = PANEL, camera: str = "xy"):
        import pyvista as pv

        pv.OFF_SCREEN = True  # no display needed (EGL/OSMesa)
        self.runs = [read_fields(d) for d in run_dirs]
        self.labels = labels or [Path(d).name for d in run_dirs]
        self.layers = [layer(name) for name in layer_names]
        frames = [[s.index_at(t) for t in times] for s in self.runs]
        self.limits = [shared_limits(chosen, self.runs, frames) for chosen in self.layers]
        self.camera = camera
        self.plotter = pv.Plotter(shape=(len(self.layers), len(self.runs)), off_screen=True, border=False,
                                  window_size=(panel[0] * len(self.runs), panel[1] * len(self.layers)))
        self.plotter.set_background("white")

    def draw(self, t: float) -> np.ndarray:
        self.plotter.clear()
        for row, (chosen, limits) in enumerate(zip(self.layers, self.limits)):
            for col, (series, label) in enumerate(zip(self.runs, self.labels)):
                self.plotter.subplot(row, col)
                draw_panel(self.plotter, series, series.index_at(t), chosen, limits, label, self.camera)
        return self.plotter.screenshot(return_img=True)

    def close(self) -> None:
        self.plotter.close()


def write_snapshots(run_dirs, out_dir: Path, layer_names: list[str], times: list[float] | None = None,
                    labels=None, panel=PANEL, camera: str = "xy") -> list[Path]:
    """One PNG per requested time (default: first, middle, last common output)."""
    import imageio.v3 as iio

    runs = [read_fields(d) for d in run_dirs]
    available = common_times(runs)
    times = times if times else [available[0], available[len(available) // 2], available[-1]]
    grid = Grid(run_dirs, labels, layer_names, times, panel, camera)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for t in times:
        path = out_dir / f"snapshot_t{t:06.2f}yr.png"
        iio.imwrite(path, grid.draw(t))
        paths.append(path)
    grid.close()
    return paths


def write_animation(run_dirs, path: Path, layer_names: list[str], labels=None,
                    time_range: tuple[float, float] | None = None, panel=PANEL, camera: str = "xy",
                    fps: float = 4.0) -> int:
    """GIF or MP4 (by suffix) with one frame per common output time; returns the frame count."""
    import imageio.v2 as imageio

    times = common_times([read_fields(d) for d in run_dirs], time_range)
    grid = Grid(run_dirs, labels, layer_names, times, panel, camera)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gif":
        writer = imageio.get_writer(path, mode="I", duration=1000.0 / fps, loop=0)
    elif path.suffix == ".mp4":
        writer = imageio.get_writer(path, fps=fps, codec="libx264", macro_block_size=16, quality=7)
    else:
        raise ValueError(f"{path}: animations are .gif or .mp4")
    with writer:
        for t in times:
            writer.append_data(grid.draw(t))
    grid.close()
    return len(times)
