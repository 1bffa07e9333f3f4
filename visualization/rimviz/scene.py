"""Drawing one run at one time into one pyvista panel: the field, the lesion edge, the rim, the
cortex/white-matter boundary, labels; and the legend of those lines under a grid of panels."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from rimviz.fields import FieldSeries
from rimviz.layers import MICROGLIA_THRESHOLD, MYELIN_THRESHOLD, Layer

WHITE_MATTER, CORTEX = 1, 2  # cell tags written with the fields (rimmodel.geometry)
LESION_EDGE, RIM_EDGE, TISSUE_BOUNDARY = "white", "cyan", "#ff4fd8"
# where things sit in a panel, as fractions of its height: the tissue between CONTENT, the colour bar below
CONTENT = (0.22, 0.87)
BAR_BOTTOM, BAR_HEIGHT, BAR_TITLE = 0.02, 0.1, 0.13


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


def tissue_boundary(series: FieldSeries):
    """The cortex/white-matter interface: edges (2D) or faces (3D) between a cortex cell and a
    white-matter cell, as pyvista lines or a surface; None if the run wrote no tissue tags."""
    import pyvista as pv

    if series.cell_tags is None or not {WHITE_MATTER, CORTEX} <= set(np.unique(series.cell_tags)):
        return None
    corners = series.cells.shape[1]
    # every facet of every cell (an edge of a triangle, a face of a tetrahedron), vertices sorted
    facets = np.sort(np.concatenate([np.delete(series.cells, k, axis=1) for k in range(corners)]), axis=1)
    owner_tag = np.tile(series.cell_tags, corners)
    keys, inverse = np.unique(facets, axis=0, return_inverse=True)
    has_cortex = np.zeros(len(keys), bool)
    has_white = np.zeros(len(keys), bool)
    np.logical_or.at(has_cortex, inverse.ravel(), owner_tag == CORTEX)
    np.logical_or.at(has_white, inverse.ravel(), owner_tag == WHITE_MATTER)
    interface = keys[has_cortex & has_white]
    if series.cell_type == "triangle":
        return pv.PolyData(series.points, lines=np.column_stack([np.full(len(interface), 2), interface]))
    return pv.PolyData.from_regular_faces(series.points, interface)


def draw_panel(plotter, series: FieldSeries, index: int, chosen: Layer, limits: tuple[float, float],
               label: str, camera: str = "xy", colour_bar: bool = True, boundary=None) -> None:
    """Adds everything for one panel to the plotter's current subplot (``boundary``: from
    ``tissue_boundary``, computed once per run). The colour bar, shared by a row, is drawn once."""
    mesh = to_pyvista(series)
    mesh.point_data[chosen.name] = chosen.values(series, index)
    for outlined in ("myelin", "microglia"):  # the fields the lines are drawn from, if the run has them
        if outlined in series.names:
            mesh.point_data[outlined] = series.values(outlined, index)
    bar = {"title": chosen.title, "vertical": False, "position_x": 0.12, "position_y": BAR_BOTTOM, "width": 0.76,
           "height": BAR_HEIGHT, "label_font_size": 14, "fmt": "%.2f", "n_labels": 5,
           "unconstrained_font_size": True}
    options = {"scalars": chosen.name, "cmap": chosen.cmap, "clim": limits, "scalar_bar_args": bar,
               "show_scalar_bar": colour_bar}
    if series.cell_type == "triangle":
        plotter.add_mesh(mesh, **options)
        _outline_lesion_and_rim(plotter, mesh)
        if boundary is not None:
            plotter.add_mesh(boundary, color=TISSUE_BOUNDARY, line_width=2)
    else:
        _draw_volume(plotter, mesh, options, boundary)
    if colour_bar:
        _title_colour_bar(plotter, chosen.title)
    plotter.add_text(f"{label}\nt = {series.times[index]:.1f} yr", font_size=10, position="upper_left")
    frame = _set_camera(plotter, camera if series.cell_type != "triangle" else "xy", mesh.bounds)
    corners = np.array(list(itertools.product(*np.reshape(mesh.bounds, (3, 2)))))
    _scale_bar(plotter, frame, float(np.ptp(corners @ frame.right)))
    plotter.renderer.reset_camera_clipping_range()  # the scale bar floats in front of the tissue


def _title_colour_bar(plotter, title: str) -> None:
    """Labels under the bar and the title above it, apart: VTK's own title overlaps the labels."""
    scalar_bar = plotter.scalar_bars[title]
    scalar_bar.SetTitle("")
    scalar_bar.SetTextPositionToPrecedeScalarBar()  # horizontal bar: labels below
    text = plotter.add_text(title, position=(0.5, BAR_TITLE), viewport=True, font_size=9, color="black")
    text.GetTextProperty().SetJustificationToCentered()


def _outline_lesion_and_rim(plotter, mesh) -> None:
    """White line: lesion edge (myelin = 0.5); cyan: outer edge of the rim (microglia = 0.1)."""
    for scalars, value, colour in (("myelin", MYELIN_THRESHOLD, LESION_EDGE),
                                   ("microglia", MICROGLIA_THRESHOLD, RIM_EDGE)):
        if scalars not in mesh.point_data:
            continue
        contour = mesh.contour([value], scalars=scalars)
        if contour.n_points:
            plotter.add_mesh(contour, color=colour, line_width=2)


def _draw_volume(plotter, mesh, options, boundary) -> None:
    """3D: the near half cut away at mid-depth; the field on the faces that remain, and on them the
    same lines as in 2D. (No translucent shells: VTK then misplaces the colour bar under its labels.)"""
    centre = np.array(mesh.center)
    clipped = mesh.clip(normal="z", origin=centre, invert=True)
    plotter.add_mesh(clipped, **options)
    _outline_lesion_and_rim(plotter, clipped.extract_surface(algorithm="dataset_surface"))
    if boundary is not None:
        cut = boundary.clip(normal="z", origin=centre, invert=True)
        edges = cut.extract_feature_edges(boundary_edges=True, feature_edges=False, manifold_edges=False,
                                          non_manifold_edges=False)
        if edges.n_points:
            plotter.add_mesh(edges, color=TISSUE_BOUNDARY, line_width=2)
    plotter.add_mesh(mesh.outline(), color="grey")


@dataclass(frozen=True)
class Frame:
    """How a panel's camera maps the tissue to pixels (parallel projection: one scale everywhere)."""

    focus: np.ndarray        # world point at the panel's centre, mm
    right: np.ndarray        # unit vectors of the screen's x and y axes, and towards the viewer
    up: np.ndarray
    towards_eye: np.ndarray
    pixels_per_mm: float
    size: tuple[float, float]  # panel, pixels

    def world(self, x: float, y: float, lift: float = 0.0) -> np.ndarray:
        """The world point shown at panel fraction (x, y), ``lift`` mm towards the viewer."""
        width, height = self.size
        return (self.focus + self.right * (x - 0.5) * width / self.pixels_per_mm
                + self.up * (y - 0.5) * height / self.pixels_per_mm + self.towards_eye * lift)


VIEWS = {  # camera: (direction towards the viewer, screen up); y is up in rimmodel geometries (pia on top)
    "xy": ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0)), "xz": ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "yz": ((1.0, 0.0, 0.0), (0.0, 0.0, 1.0)), "iso": ((1.0, 0.8, 1.6), (0.0, 1.0, 0.0)),
}


def _set_camera(plotter, camera: str, bounds) -> Frame:
    """Parallel projection, the tissue's bounding box fitted into the panel's content band and
    centred in it: the same scale in every panel of a grid and every frame of an animation."""
    if camera not in VIEWS:
        raise ValueError(f"camera {camera!r}: choose from {', '.join(VIEWS)}")
    towards_eye, up = (np.array(v) for v in VIEWS[camera])
    towards_eye /= np.linalg.norm(towards_eye)
    up -= up.dot(towards_eye) * towards_eye
    up /= np.linalg.norm(up)
    right = np.cross(up, towards_eye)
    corners = np.array(list(itertools.product(bounds[0:2], bounds[2:4], bounds[4:6])))
    centre = corners.mean(axis=0)
    across, upward = np.ptp((corners - centre) @ right), np.ptp((corners - centre) @ up)
    width, height = _panel_size(plotter)
    low, high = CONTENT
    pixels_per_mm = min(0.9 * width / max(across, 1e-9), (high - low) * height / max(upward, 1e-9))
    focus = centre - (0.5 * (low + high) - 0.5) * height / pixels_per_mm * up  # tissue centred in the band
    diagonal = float(np.linalg.norm(corners.max(axis=0) - corners.min(axis=0)))
    view = plotter.camera
    view.parallel_projection = True
    view.focal_point = tuple(focus)
    view.position = tuple(focus + 4.0 * diagonal * towards_eye)
    view.up = tuple(up)
    view.parallel_scale = 0.5 * height / pixels_per_mm
    return Frame(focus, right, up, towards_eye, pixels_per_mm, (width, height))


def _scale_bar(plotter, frame: Frame, tissue_width_mm: float) -> None:
    """A bar of round length in the screen plane, right-aligned with the tissue, above it."""
    import pyvista as pv

    length = nice_length(tissue_width_mm)
    width, _ = frame.size
    right_end = 0.5 + 0.5 * tissue_width_mm * frame.pixels_per_mm / width
    lift = 2.0 * tissue_width_mm  # in front of the tissue (parallel projection: same place on screen)
    end = frame.world(right_end, CONTENT[1] + 0.03, lift)
    start = end - frame.right * length
    plotter.add_mesh(pv.Line(start, end), color="black", line_width=5)
    label = frame.world(right_end, CONTENT[1] + 0.07, lift) - frame.right * 0.5 * length
    plotter.add_point_labels([label], [f"{length:g} mm"], shape=None, font_size=12, text_color="black",
                             show_points=False, always_visible=True)


def _panel_size(plotter) -> tuple[float, float]:
    """Pixel size of the current subplot (rows may differ: the legend strip is thinner)."""
    left, bottom, right, top = plotter.renderer.GetViewport()
    return (right - left) * plotter.window_size[0], (top - bottom) * plotter.window_size[1]


def draw_legend(plotter, boundary: bool) -> None:
    """The lines every panel shows, once, in the current subplot (a strip under the grid)."""
    entries = [(f"lesion edge: myelin = {MYELIN_THRESHOLD:g}", LESION_EDGE),
               (f"rim outer edge: microglia = {MICROGLIA_THRESHOLD:g}", RIM_EDGE)]
    if boundary:
        entries.append(("cortex / white matter boundary", TISSUE_BOUNDARY))
    plotter.set_background("#3a3a3a", all_renderers=False)
    legend = plotter.add_legend(entries, bcolor=None, face="line", loc="center", size=(0.9, 0.9))
    legend.GetEntryTextProperty().SetColor(1.0, 1.0, 1.0)
