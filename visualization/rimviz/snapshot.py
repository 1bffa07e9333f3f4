"""Side-by-side off-screen pyvista renders of several runs at one time."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rimviz.fields import FieldSeries, read_fields

# field -> (colour map, fixed limits or None for shared data limits, colour-bar title)
FIELD_STYLE = {
    "myelin": ("cividis", (0.0, 1.0), "intact myelin (fraction)"),
    "microglia": ("inferno", None, "activated microglia (fraction of capacity)"),
    "axons": ("viridis", (0.0, 1.0), "intact axons (fraction)"),
    "mediator": ("magma", None, "inflammatory mediator (norm.)"),
    "follicle_factor": ("plasma", None, "follicle factor (norm.)"),
}


def to_pyvista(series: FieldSeries):
    import pyvista as pv

    if series.cell_type == "triangle":
        return pv.PolyData.from_regular_faces(series.points, series.cells)
    return pv.UnstructuredGrid({pv.CellType.TETRA: series.cells}, series.points)


def shared_limits(all_series: list[FieldSeries], name: str, index: list[int]) -> tuple[float, float]:
    fixed = FIELD_STYLE.get(name, ("viridis", None, name))[1]
    if fixed is not None:
        return fixed
    high = max(float(np.max(s.values(name, i))) for s, i in zip(all_series, index))
    return 0.0, max(high, 1e-12)


def render_comparison(run_dirs: list[str | Path], labels: list[str], out_png: str | Path,
                      fields: tuple[str, ...] = ("myelin", "microglia"), time: float | None = None,
                      panel_size: tuple[int, int] = (520, 380)) -> Path:
    """One row per field, one column per run, same colour limits along each row."""
    import pyvista as pv

    pv.OFF_SCREEN = True  # no display needed (EGL/OSMesa)
    series = [read_fields(d) for d in run_dirs]
    t = min(s.times[-1] for s in series) if time is None else time
    index = [s.index_at(t) for s in series]
    plotter = pv.Plotter(shape=(len(fields), len(series)), off_screen=True,
                         window_size=(panel_size[0] * len(series), panel_size[1] * len(fields)))
    for row, name in enumerate(fields):
        cmap, _, title = FIELD_STYLE.get(name, ("viridis", None, name))
        limits = shared_limits(series, name, index)
        for col, (s, i, label) in enumerate(zip(series, index, labels)):
            plotter.subplot(row, col)
            mesh = to_pyvista(s)
            mesh.point_data[name] = s.values(name, i)
            plotter.add_mesh(mesh, scalars=name, cmap=cmap, clim=limits,
                             scalar_bar_args={"title": title, "vertical": False, "position_y": 0.02,
                                              "width": 0.8, "position_x": 0.1, "title_font_size": 14,
                                              "label_font_size": 12, "fmt": "%.2f"})
            plotter.add_text(f"{label}   t = {s.times[i]:.1f} yr", font_size=10, position="upper_left")
            plotter.view_xy()
            plotter.camera.zoom(1.25)
    out_png = Path(out_png)
    plotter.screenshot(str(out_png))
    plotter.close()
    return out_png
