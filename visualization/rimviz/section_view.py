"""The report's interactive view: the tissue section seen from above (2D runs: the section; 3D runs:
the mid-plane cut the snapshots show), every layer at every output time, one panel per run, with a
time slider and a layer menu. plotly draws; the data travel in the page, one byte per pixel.

The page state is in the address too (``report.html#time=2&layer=microglia``), so a view can be
linked to, and the tests can load the page at two times.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np

from rimviz.fields import FieldSeries, read_fields
from rimviz.layers import Layer, choose_layers, shared_limits
from rimviz.render import common_times
from rimviz.scene import to_pyvista

PIXELS = 120          # along the longer side of the section
MISSING = 255         # byte for "outside the tissue"; 0..254 span the layer's colour limits
DIV_ID = "section-view"


def section_data(run_dirs: list[Path], labels: list[str], layer_names) -> dict:
    """Everything the viewer draws, as JSON-ready data (fields quantised to bytes, base64)."""
    runs = [read_fields(d) for d in run_dirs]
    layers = choose_layers(layer_names, run_dirs, runs)
    limits = [shared_limits(chosen, runs) for chosen in layers]
    times = common_times(runs)
    x, y = _raster_axes(runs[0])
    panels = []
    for series, label in zip(runs, labels):
        sample = _sampler(series, x, y)
        frames = {chosen.name: [_encode(sample(chosen, series.index_at(t)), low_high) for t in times]
                  for chosen, low_high in zip(layers, limits)}
        panels.append({"label": label, "frames": frames})
    return {"times": times, "x": x.round(4).tolist(), "y": y.round(4).tolist(), "runs": panels,
            "layers": [{"name": c.name, "title": c.title, "colorscale": _colorscale(c.cmap), "limits": list(lim)}
                       for c, lim in zip(layers, limits)]}


def _raster_axes(series: FieldSeries) -> tuple[np.ndarray, np.ndarray]:
    (x0, y0, _), (x1, y1, _) = series.points.min(axis=0), series.points.max(axis=0)
    step = max(x1 - x0, y1 - y0) / (PIXELS - 1)
    return np.arange(x0, x1 + 0.5 * step, step), np.arange(y0, y1 + 0.5 * step, step)


def _sampler(series: FieldSeries, x: np.ndarray, y: np.ndarray):
    """A function (layer, output index) -> field on the raster (NaN outside the tissue): linear
    interpolation on the section's triangles (3D runs: the cut at mid-depth, as the snapshots)."""
    from matplotlib.tri import LinearTriInterpolator, Triangulation

    grid_x, grid_y = np.meshgrid(x, y)
    if series.cell_type == "triangle":
        triangulation = Triangulation(series.points[:, 0], series.points[:, 1], series.cells)

        def on_section(chosen: Layer, index: int) -> np.ndarray:
            return chosen.values(series, index)
    else:
        mesh = to_pyvista(series)
        cut_at = {"normal": "z", "origin": mesh.center}
        first = mesh.slice(**cut_at).triangulate()
        triangulation = Triangulation(first.points[:, 0], first.points[:, 1], first.faces.reshape(-1, 4)[:, 1:])

        def on_section(chosen: Layer, index: int) -> np.ndarray:
            mesh.point_data["layer"] = chosen.values(series, index)  # same mesh and plane: same cut points
            return mesh.slice(**cut_at).triangulate().point_data["layer"]

    def sample(chosen: Layer, index: int) -> np.ndarray:
        values = LinearTriInterpolator(triangulation, on_section(chosen, index))(grid_x, grid_y)
        return np.ma.filled(values.astype(float), np.nan)

    return sample


def _encode(values: np.ndarray, limits: tuple[float, float]) -> str:
    low, high = limits
    scaled = np.clip((values - low) / (high - low), 0.0, 1.0)
    quantised = np.where(np.isnan(values), MISSING, np.rint(np.nan_to_num(scaled) * (MISSING - 1)))
    return base64.b64encode(quantised.astype(np.uint8).tobytes()).decode()


def _colorscale(cmap: str, samples: int = 11) -> list:
    """The layer's matplotlib colour map as a plotly colour scale (any map the record names)."""
    import matplotlib

    colours = matplotlib.colormaps[cmap](np.linspace(0.0, 1.0, samples))
    return [[float(s), f"rgb({r * 255:.0f},{g * 255:.0f},{b * 255:.0f})"]
            for s, (r, g, b, _) in zip(np.linspace(0.0, 1.0, samples), colours)]


def section_view_html(run_dirs: list[Path], labels: list[str], layer_names, include_plotlyjs: bool = True) -> str:
    """The viewer: controls, the plotly figure (plotly.js inlined), the data and the script."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    data = section_data(run_dirs, labels, layer_names)
    columns = len(data["runs"])
    figure = make_subplots(1, columns, subplot_titles=labels, horizontal_spacing=0.06)
    first = data["layers"][0]
    for col in range(1, columns + 1):
        figure.add_trace(go.Heatmap(x=data["x"], y=data["y"], z=None, zmin=first["limits"][0],
                                    zmax=first["limits"][1], colorscale=first["colorscale"], showscale=col == columns,
                                    zsmooth="best",
                                    colorbar={"title": {"text": first["title"], "side": "right"}},
                                    hovertemplate="x %{x:.2f} mm<br>y %{y:.2f} mm<br>%{z:.3f}<extra></extra>"),
                         1, col)
        figure.update_xaxes(title_text="x (mm)", constrain="domain", row=1, col=col)
        figure.update_yaxes(title_text="y (mm)" if col == 1 else None, scaleanchor=f"x{'' if col == 1 else col}",
                            constrain="domain", row=1, col=col)
    figure.update_layout(height=470, margin={"l": 50, "r": 20, "t": 40, "b": 40}, plot_bgcolor="white")
    plot = figure.to_html(full_html=False, include_plotlyjs="inline" if include_plotlyjs else False,
                          div_id=DIV_ID, config={"responsive": True, "displaylogo": False})
    options = "".join(f"<option value='{html.escape(layer['name'])}'>{html.escape(layer['title'])}</option>"
                      for layer in data["layers"])
    controls = (f"<div class='controls'><label>layer <select id='section-layer'>{options}</select></label>"
                f"<label>time <input id='section-time' type='range' min='0' max='{len(data['times']) - 1}' "
                f"step='1' value='{len(data['times']) - 1}'></label> <output id='section-time-label'></output></div>")
    payload = json.dumps(data).replace("</", "<\\/")
    return (f"<div id='sections'>{controls}{plot}</div>"
            f"<script type='application/json' id='section-data'>{payload}</script><script>{_SCRIPT}</script>")


# Decodes a frame, restyles every run's heatmap, keeps the address in step with the controls.
_SCRIPT = r"""
(function () {
  const data = JSON.parse(document.getElementById("section-data").textContent);
  const view = document.getElementById("section-view");
  const menu = document.getElementById("section-layer");
  const slider = document.getElementById("section-time");
  const label = document.getElementById("section-time-label");
  const rows = data.y.length, columns = data.x.length;

  function decode(text, limits) {
    const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    const [low, high] = limits, z = [];
    for (let r = 0; r < rows; r++) {
      const row = new Array(columns);
      for (let c = 0; c < columns; c++) {
        const b = bytes[r * columns + c];
        row[c] = b === 255 ? null : low + (high - low) * b / 254;
      }
      z.push(row);
    }
    return z;
  }

  function show() {
    const layer = data.layers[menu.selectedIndex], t = Number(slider.value);
    Plotly.restyle(view, {
      z: data.runs.map((run) => decode(run.frames[layer.name][t], layer.limits)),
      zmin: layer.limits[0], zmax: layer.limits[1],
      colorscale: data.runs.map(() => layer.colorscale),
      "colorbar.title.text": layer.title,
    });
    label.textContent = "t = " + data.times[t].toFixed(1) + " yr";
    history.replaceState(null, "", "#time=" + data.times[t] + "&layer=" + layer.name);
  }

  function fromAddress() {
    const wanted = new URLSearchParams(location.hash.slice(1));
    if (wanted.has("layer")) {
      const index = data.layers.findIndex((layer) => layer.name === wanted.get("layer"));
      if (index >= 0) menu.selectedIndex = index;
    }
    if (wanted.has("time")) {
      const t = Number(wanted.get("time"));
      let best = 0;
      data.times.forEach((time, i) => { if (Math.abs(time - t) < Math.abs(data.times[best] - t)) best = i; });
      slider.value = best;
    }
  }

  menu.addEventListener("change", show);
  slider.addEventListener("input", show);
  window.addEventListener("load", () => {
    fromAddress();
    show();
  });
})();
"""
