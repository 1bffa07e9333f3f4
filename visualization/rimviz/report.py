"""``rimmodel report``: one self-contained HTML file per set of runs, viewable offline.

Images and the animation are embedded as data URIs; the interactive view (``section_view``) is
a plotly figure with plotly.js inlined (no server, no network).
"""

from __future__ import annotations

import base64
import html
import os
import tempfile
from pathlib import Path

from rimmodel.io.results import read_run
from rimviz.layers import DEFAULT_LAYERS
from rimviz.plots import plot_time_series
from rimviz.render import write_animation, write_snapshots
from rimviz.section_view import section_view_html

OBSERVABLE_COLUMNS = 3  # panels a row: each 400 px wide on the 1200 px page
STYLE = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
         "font-size:13px;text-align:left}img{max-width:100%}h2{margin-top:2em}"
         ".controls{display:flex;gap:2em;align-items:center;margin:0.5em 0}"
         ".controls input[type=range]{width:24em}")


def data_uri(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def summary_table(run_dirs: list[Path], labels: list[str]) -> str:
    header = ("run", "status", "years", "lesion radius (mm)", "expansion rate, last (mm/yr)",
              "rim thickness (mm)", "axon loss")
    rows = []
    for path, label in zip(run_dirs, labels):
        run = read_run(path)
        radius, obs = run.observables["lesion_equivalent_radius"], run.observables
        rows.append((label, run.status_text, f"{run.time[-1]:g}", f"{radius[0]:.2f} → {radius[-1]:.2f}",
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


def write_report(run_dirs: list[Path], out_html: Path, labels: list[str] | None = None) -> Path:
    run_dirs = [Path(d) for d in run_dirs]
    labels = labels or [d.name for d in run_dirs]
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        plots = plot_time_series(run_dirs, labels, scratch / "time_series.png", columns=OBSERVABLE_COLUMNS,
                                 dpi=100)  # 1200 px: the page width, shown unscaled
        snapshot = write_snapshots(run_dirs, scratch, DEFAULT_LAYERS, None, labels)[-1]
        write_animation(run_dirs, scratch / "expansion.gif", ["microglia"], labels)
        images = (f"<h2>Observables</h2><img alt='time series' src='{data_uri(plots, 'image/png')}'>"
                  f"<h2>Final state</h2><img alt='snapshot' src='{data_uri(snapshot, 'image/png')}'>"
                  f"<h2>Microglial rim over time</h2>"
                  f"<img alt='animation' src='{data_uri(scratch / 'expansion.gif', 'image/gif')}'>")
    view = section_view_html(run_dirs, labels, DEFAULT_LAYERS)
    document = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>rimmodel report</title>"
                f"<style>{STYLE}</style></head><body><h1>rimmodel report: {html.escape(', '.join(labels))}</h1>"
                f"<h2>Summary</h2>{summary_table(run_dirs, labels)}"
                f"<h2>The tissue from above (choose a layer, drag the time slider; drag to zoom, hover for values)"
                f"</h2>{view}{images}"
                f"<h2>Provenance</h2>{provenance_table(run_dirs, labels)}</body></html>")
    out_html = Path(out_html)
    scratch = out_html.with_name(f".{out_html.name}.partial")
    try:  # whole or not at all: a reader never finds half a report
        scratch.write_text(document)
        os.replace(scratch, out_html)
    finally:
        scratch.unlink(missing_ok=True)
    return out_html
