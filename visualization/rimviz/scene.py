"""Drawing one run at one time into one pyvista panel: the field, the lesion edge, the rim, labels."""

from __future__ import annotations

import math

import numpy as np

from rimviz.fields import FieldSeries
from rimviz.layers import MICROGLIA_THRESHOLD, MYELIN_THRESHOLD, Layer

CAMERAS = ("xy", "iso", "xz", "yz")


def to_pyvista(series: FieldSeries):
    import pyvista as pv

    if series.cell_type == "triangle":
        return pv.PolyData.from_regular_faces(series.points, series.cells)
    return pv.UnstructuredGrid({pv.CellType.TETRA: series.cells}, series.points)


def nice_length(extent: float) -> float:
    """A round scale-bar length of about a fifth of the extent (1, 2 or 5 times a power of ten)."""
    target = extent / 5
    power = 10 ** math.floor(math.log10(target))
    return max(step * power for step in (1, 2, 5) if step * power <= target)


def draw_panel(plotter, series: FieldSeries, index: int, chosen: Layer, limits: tuple[float, float],
               label: str, camera: str = "xy") -> None:
    """Adds everything for one panel to the plotter's current subplot."""
    mesh = to_pyvista(series)
    mesh.point_data[chosen.name] = chosen.values(series, index)
    mesh.point_data["myelin"] = series.values("myelin", index)
    mesh.point_data["microglia"] = series.values("microglia", index)
    bar = {"title": chosen.title, "vertical": False, "position_x": 0.15, "position_y": 0.04, "width": 0.7,
           "height": 0.06, "title_font_size": 13, "label_font_size": 11, "fmt": "%.2f", "n_labels": 5}
    if series.cell_type == "triangle":
        plotter.add_mesh(mesh, scalars=chosen.name, cmap=chosen.cmap, clim=limits, scalar_bar_args=bar)
        _outline_lesion_and_rim(plotter, mesh)
    else:
        _draw_volume(plotter, mesh, chosen, limits, bar)
    plotter.add_text(f"{label}\nt = {series.times[index]:.1f} yr", font_size=10, position="upper_left")
    _scale_bar(plotter, mesh.bounds)
    _set_camera(plotter, camera if series.cell_type != "triangle" else "xy", mesh.bounds)


def _outline_lesion_and_rim(plotter, mesh) -> None:
    """White line: lesion edge (myelin = 0.5); cyan: outer edge of the rim (microglia = 0.1)."""
    for scalars, value, colour in (("myelin", MYELIN_THRESHOLD, "white"), ("microglia", MICROGLIA_THRESHOLD, "cyan")):
        contour = mesh.contour([value], scalars=scalars)
        if contour.n_points:
            plotter.add_mesh(contour, color=colour, line_width=2)


def _draw_volume(plotter, mesh, chosen: Layer, limits, bar) -> None:
    """3D: the field on a clipping plane through the centre, the lesion as an isosurface, the rim as a shell."""
    centre = np.array(mesh.center)
    clipped = mesh.clip(normal="z", origin=centre, invert=True)
    plotter.add_mesh(clipped, scalars=chosen.name, cmap=chosen.cmap, clim=limits, scalar_bar_args=bar)
    lesion = mesh.contour([MYELIN_THRESHOLD], scalars="myelin")
    if lesion.n_points:
        plotter.add_mesh(lesion, color="white", opacity=0.9)
    rim = mesh.contour([MICROGLIA_THRESHOLD], scalars="microglia")
    if rim.n_points:
        plotter.add_mesh(rim, color="orange", opacity=0.35)
    plotter.add_mesh(mesh.outline(), color="grey")


def _scale_bar(plotter, bounds) -> None:
    """A bar of round length just above the top-right corner (clear of the colour bar)."""
    import pyvista as pv

    x0, x1, y0, y1, z0, z1 = bounds
    length = nice_length(x1 - x0)
    start = np.array([x1 - length, y1 + 0.05 * (y1 - y0), z1])
    end = start + np.array([length, 0.0, 0.0])
    plotter.add_mesh(pv.Line(start, end), color="black", line_width=5)
    plotter.add_point_labels([0.5 * (start + end) + np.array([0, 0.06 * (y1 - y0), 0])], [f"{length:g} mm"],
                             shape=None, font_size=12, text_color="black", show_points=False)


def _set_camera(plotter, camera: str, bounds) -> None:
    """Framed on the tissue itself, so every panel of a grid has the same scale."""
    if camera not in CAMERAS:
        raise ValueError(f"camera {camera!r}: choose from {', '.join(CAMERAS)}")
    if camera == "iso":  # y is up in rimmodel geometries (the pia is the top, y = height)
        plotter.view_vector((1.0, 0.8, 1.6), viewup=(0.0, 1.0, 0.0))
    else:
        {"xy": plotter.view_xy, "xz": plotter.view_xz, "yz": plotter.view_yz}[camera]()
    plotter.reset_camera(bounds=bounds)
    plotter.camera.zoom(1.1)
