"""Snapshots (PNG) and animations (GIF, MP4) of one or several runs, frames synchronised in time.

A grid: one row per layer, one column per run, and a legend strip under it; colour limits are
shared along a row and across every output of the runs, so panels and frames compare by eye.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rimviz.fields import FieldSeries, read_fields
from rimviz.layers import DEFAULT_LAYERS, choose_layers, shared_limits
from rimviz.scene import draw_legend, draw_panel, tissue_boundary

PANEL = (480, 400)  # pixels per panel (multiples of 16 keep video encoders happy)
LEGEND_HEIGHT = 64  # pixels of the legend strip (the grid stays a multiple of 16 high)
TIME_TOLERANCE = 1e-6  # yr


def common_times(runs: list[FieldSeries], time_range: tuple[float, float] | None = None) -> list[float]:
    """Output times present in every run (within the range), in order."""
    shared = set(np.round(runs[0].times, 9))
    for series in runs[1:]:
        shared &= set(np.round(series.times, 9))
    low, high = time_range if time_range else (-np.inf, np.inf)
    return sorted(float(t) for t in shared if low - 1e-9 <= t <= high + 1e-9)


def snap_times(available: list[float], requested: list[float]) -> list[tuple[float, float]]:
    """(requested, drawn) pairs: each requested time drawn at the nearest output, never outside the run."""
    if not available:
        raise ValueError("the runs share no output time")
    pairs = []
    for t in requested:
        if not available[0] - TIME_TOLERANCE <= t <= available[-1] + TIME_TOLERANCE:
            raise ValueError(f"--times {t:g}: outside the runs' outputs, {available[0]:g} to {available[-1]:g} yr")
        pairs.append((t, min(available, key=lambda output: abs(output - t))))
    return pairs


class Grid:
    """A reusable off-screen plotter drawing runs × layers at a given output time."""

    def __init__(self, run_dirs: list[str | Path], labels: list[str] | None, layer_names=DEFAULT_LAYERS,
                 panel: tuple[int, int] = PANEL, camera: str = "xy"):
        import pyvista as pv

        pv.OFF_SCREEN = True  # no display needed (EGL/OSMesa)
        self.runs = [read_fields(d) for d in run_dirs]
        self.labels = labels or [Path(d).name for d in run_dirs]
        self.layers = choose_layers(layer_names, run_dirs, self.runs)
        self.limits = [shared_limits(chosen, self.runs) for chosen in self.layers]
        self.boundaries = [tissue_boundary(series) for series in self.runs]
        self.camera = camera
        rows, columns = len(self.layers), len(self.runs)
        self.plotter = pv.Plotter(shape=(rows + 1, columns), row_weights=[panel[1]] * rows + [LEGEND_HEIGHT],
                                  groups=[(rows, np.s_[:])], off_screen=True, border=False,
                                  window_size=(panel[0] * columns, panel[1] * rows + LEGEND_HEIGHT))

    def draw(self, t: float) -> np.ndarray:
        """The grid at output time ``t`` (RGB, uint8)."""
        self.plotter.suppress_rendering = True  # pyvista renders the window after every actor added, else
        self.plotter.clear()
        for row, (chosen, limits) in enumerate(zip(self.layers, self.limits)):
            for col, (series, label, boundary) in enumerate(zip(self.runs, self.labels, self.boundaries)):
                self.plotter.subplot(row, col)
                self.plotter.set_background("white", all_renderers=False)
                draw_panel(self.plotter, series, series.index_at(t), chosen, limits, label, self.camera,
                           colour_bar=col == 0, boundary=boundary)
        self.plotter.subplot(len(self.layers), 0)
        draw_legend(self.plotter, any(b is not None for b in self.boundaries))
        self.plotter.suppress_rendering = False
        self.plotter.render()  # once, after every camera is set: the screenshot shows this render
        return self.plotter.screenshot(return_img=True)[..., :3]

    def close(self) -> None:
        self.plotter.close()


def write_snapshots(run_dirs, out_dir: Path, layer_names=DEFAULT_LAYERS, times: list[float] | None = None,
                    labels=None, panel=PANEL, camera: str = "xy") -> list[Path]:
    """One PNG per requested time (default: first, middle, last common output), named by the output
    time drawn (a requested time between outputs is drawn at the nearest one)."""
    import imageio.v3 as iio

    available = common_times([read_fields(d) for d in run_dirs])
    if times:
        drawn = list(dict.fromkeys(t for _, t in snap_times(available, times)))
    else:
        drawn = list(dict.fromkeys([available[0], available[len(available) // 2], available[-1]]))
    grid = Grid(run_dirs, labels, layer_names, panel, camera)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for t in drawn:
        path = out_dir / f"snapshot_t{t:06.2f}yr.png"
        iio.imwrite(path, grid.draw(t))
        paths.append(path)
    grid.close()
    return paths


def write_animation(run_dirs, path: Path, layer_names=DEFAULT_LAYERS, labels=None,
                    time_range: tuple[float, float] | None = None, panel=PANEL, camera: str = "xy",
                    fps: float = 4.0) -> int:
    """GIF or MP4 (by suffix) with one frame per common output time; returns the frame count."""
    if path.suffix not in (".gif", ".mp4"):
        raise ValueError(f"{path}: animations are .gif or .mp4")
    times = common_times([read_fields(d) for d in run_dirs], time_range)
    if not times:
        raise ValueError(f"--time-range {time_range}: no output of the runs falls inside")
    grid = Grid(run_dirs, labels, layer_names, panel, camera)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.suffix == ".gif":
            _write_gif(grid, times, path, fps)
        else:
            _write_mp4(grid, times, path, fps)
    finally:
        grid.close()
    return len(times)


def _write_mp4(grid: Grid, times: list[float], path: Path, fps: float) -> None:
    import imageio.v2 as imageio

    with imageio.get_writer(path, fps=fps, codec="libx264", macro_block_size=16, quality=7) as writer:
        for t in times:
            writer.append_data(grid.draw(t))


def _write_gif(grid: Grid, times: list[float], path: Path, fps: float) -> None:
    """One 256-colour palette for every frame, taken from the first, middle and last frame, and
    Floyd-Steinberg dithering: colour bars and smooth fields do not band, frames do not flicker."""
    from PIL import Image

    samples = [grid.draw(t) for t in dict.fromkeys((times[0], times[len(times) // 2], times[-1]))]
    sampled = Image.fromarray(np.concatenate(samples)).quantize(254, method=Image.Quantize.MEDIANCUT,
                                                                dither=Image.Dither.NONE)
    palette = Image.new("P", (1, 1))  # plus exact white and black: background and text stay clean
    palette.putpalette(sampled.getpalette()[: 3 * 254] + [255, 255, 255, 0, 0, 0])
    frames = [_to_palette(grid.draw(t), palette) for t in times]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=round(1000.0 / fps), loop=0,
                   optimize=False)


def _to_palette(rgb: np.ndarray, palette):
    """Dithered onto the shared palette; pure white and black pixels keep their exact entries
    (Pillow's colour lookup is coarse near white, which would grey the background)."""
    from PIL import Image

    indices = np.asarray(Image.fromarray(rgb).quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG)).copy()
    indices[(rgb == 255).all(axis=-1)] = 254
    indices[(rgb == 0).all(axis=-1)] = 255
    frame = Image.fromarray(indices, mode="P")
    frame.putpalette(palette.getpalette())
    return frame
