"""``rimmodel report``: one self-contained HTML file per set of runs, viewable offline.

Images and the animation are embedded as data URIs; the interactive view is a plotly
figure with plotly.js inlined (no server, no network).
"""

from __future__ import annotations

import base64
import html
import tempfile
from pathlib import Path

import numpy as np

from rimmodel.io.results import read_run
from rimviz.fields import read_fields
from rimviz.layers import MYELIN_THRESHOLD, layer
from rimviz.plots import plot_time_series
from rimviz.render import write_animation, write_snapshots

LAYERS = ["myelin_loss", "microglia", "axon_loss"]
STYLE = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
         "font-size:13px;text-align:left}img{max-width:100%}h2{margin-top:2em}")


def data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def summary_table(run_dirs: list[Path], labels: list[str]) -> str:
    header = ("run", "status", "years", "lesion radius (mm)", "expansion rate, last (mm/yr)",
              "rim thickness (mm)", "axon loss")
    rows = []
    for path, label in zip(run_dirs, labels):
        run = read_run(path)
        radius, obs = run.observables["lesion_equivalent_radius"], run.observables
        rows.append((label, run.status, f"{run.time[-1]:g}", f"{radius[0]:.2f} → {radius[-1]:.2f}",
                     f"{obs['expansion_rate'][-1]:.3f}", f"{obs['rim_thickness'][-1]:.2f}",
                     f"{obs['axon_loss'][-1]:.2f} {run.units['axon_loss']}"))
    return _table(header, rows)


def provenance_table(run_dirs: list[Path], labels: list[str]) -> str:
    runs = [read_run(path) for path in run_dirs]
    keys = sorted({key for run in runs for key in run.provenance})
    rows = [(key, *(str(run.provenance.get(key, "")) for run in runs)) for key in keys]
    return _table(("", *labels), rows)


def _table(header, rows) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def interactive_view(run_dir: Path, label: str, include_plotlyjs: bool) -> str:
    """Final state: 2D runs as a coloured surface, 3D runs as the lesion isosurface; rotatable."""
    import plotly.graph_objects as go

    series = read_fields(run_dir)
    last = series.times.size - 1
    chosen = layer("myelin_loss")
    if series.cell_type == "triangle":
        points, triangles = series.points, series.cells
        intensity = chosen.values(series, last)
    else:
        points, triangles = _lesion_surface(series, last)
        intensity = points[:, 1]
    trace = go.Mesh3d(x=points[:, 0], y=points[:, 1], z=points[:, 2], i=triangles[:, 0], j=triangles[:, 1],
                      k=triangles[:, 2], intensity=intensity, colorscale="Cividis", cmin=0.0,
                      cmax=1.0 if series.cell_type == "triangle" else None,
                      colorbar={"title": chosen.title if series.cell_type == "triangle" else "height (mm)"})
    figure = go.Figure(trace)
    figure.update_layout(title=f"{label}: t = {series.times[last]:.1f} yr", height=520,
                         scene={"aspectmode": "data", "xaxis_title": "x (mm)", "yaxis_title": "y (mm)",
                                "zaxis_title": "z (mm)",
                                "camera": {"eye": {"x": 0, "y": 0, "z": 2}, "up": {"x": 0, "y": 1, "z": 0}}})
    return figure.to_html(full_html=False, include_plotlyjs="inline" if include_plotlyjs else False)


def _lesion_surface(series, index: int) -> tuple[np.ndarray, np.ndarray]:
    from rimviz.scene import to_pyvista

    mesh = to_pyvista(series)
    mesh.point_data["myelin"] = series.values("myelin", index)
    surface = mesh.contour([MYELIN_THRESHOLD], scalars="myelin").triangulate()
    return np.asarray(surface.points), surface.faces.reshape(-1, 4)[:, 1:]


def write_report(run_dirs: list[Path], out_html: Path, labels: list[str] | None = None) -> Path:
    run_dirs = [Path(d) for d in run_dirs]
    labels = labels or [d.name for d in run_dirs]
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        snapshot = write_snapshots(run_dirs, scratch, LAYERS, None, labels)[-1]
        write_animation(run_dirs, scratch / "expansion.gif", ["microglia"], labels)
        plots = plot_time_series(run_dirs, labels, scratch / "time_series.png")
        images = (f"<h2>Final state</h2><img alt='snapshot' src='{data_uri(snapshot, 'image/png')}'>"
                  f"<h2>Microglial rim over time</h2>"
                  f"<img alt='animation' src='{data_uri(scratch / 'expansion.gif', 'image/gif')}'>"
                  f"<h2>Observables</h2><img alt='time series' src='{data_uri(plots, 'image/png')}'>")
    views = "".join(interactive_view(d, label, i == 0) for i, (d, label) in enumerate(zip(run_dirs, labels)))
    document = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>rimmodel report</title>"
                f"<style>{STYLE}</style></head><body><h1>rimmodel report: {html.escape(', '.join(labels))}</h1>"
                f"<h2>Summary</h2>{summary_table(run_dirs, labels)}{images}"
                f"<h2>Interactive view (drag to rotate, scroll to zoom)</h2>{views}"
                f"<h2>Provenance</h2>{provenance_table(run_dirs, labels)}</body></html>")
    out_html = Path(out_html)
    out_html.write_text(document)
    return out_html
