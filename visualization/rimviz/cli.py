"""``rimmodel render``, ``compare`` and ``report``: registered on rimmodel's command line.

Only argparse here; pyvista and the renderers are imported when a command runs, so
the command line starts fast and needs no FEM stack.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from rimviz.layers import DEFAULT_LAYERS


def register(commands) -> None:
    render = commands.add_parser("render", help="PNG snapshots and GIF/MP4 animations of a run")
    render.add_argument("run", type=Path, help="run directory")
    _common_options(render, default_out=None)
    render.set_defaults(handler=_render)

    compare = commands.add_parser("compare", help="runs side by side, synchronised in time, plus plots")
    compare.add_argument("runs", type=Path, nargs="+", help="run directories (e.g. untreated and BTK)")
    compare.add_argument("--labels", nargs="+", help="column titles (default: directory names)")
    _common_options(compare, default_out=Path("comparison"))
    compare.set_defaults(handler=_compare)

    report = commands.add_parser("report", help="one self-contained, offline HTML report of one or more runs")
    report.add_argument("runs", type=Path, nargs="+", help="run directories")
    report.add_argument("--labels", nargs="+", help="run titles (default: directory names)")
    report.add_argument("--out", type=Path, default=Path("report.html"))
    report.set_defaults(handler=_report)


def _common_options(parser, default_out) -> None:
    parser.add_argument("--out", type=Path, default=default_out,
                        help="output directory (render: RUN/render; compare: ./comparison)")
    parser.add_argument("--layers", nargs="+", default=list(DEFAULT_LAYERS),
                        help="one row each: any field the run recorded (fields.json), or its loss layer, e.g. "
                             "myelin_loss, microglia, axon_loss, myelin, axons, mediator, follicle_factor "
                             f"(default: {' '.join(DEFAULT_LAYERS)})")
    parser.add_argument("--times", type=float, nargs="+",
                        help="snapshot times in yr, within the run; each drawn at the nearest output and the file "
                             "named by that output's time (default: first, middle, last)")
    parser.add_argument("--time-range", type=float, nargs=2, metavar=("START", "END"), help="animation window, yr")
    parser.add_argument("--gif", action="store_true", help="write an animated GIF")
    parser.add_argument("--mp4", action="store_true", help="write an MP4 video")
    parser.add_argument("--fps", type=float, default=4.0)
    parser.add_argument("--camera", default="xy", help="xy, iso, xz or yz (3D runs; 2D runs are always xy)")
    parser.add_argument("--panel-size", type=int, nargs=2, default=(480, 400), metavar=("W", "H"),
                        help="pixels per panel")


@contextmanager
def staged(out: Path):
    """A scratch directory beside ``out`` to write into; its files move into ``out`` only if the
    block ends normally, so a damaged input or Ctrl-C leaves ``out`` as it was (no partial output)."""
    from rimmodel.io.output_dir import check_output_directory

    check_output_directory(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield scratch
        out.mkdir(exist_ok=True)
        for item in sorted(scratch.iterdir()):
            os.replace(item, out / item.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _check_readable(run_dirs: list[Path]) -> None:
    """Open every input before anything is drawn: a damaged one fails here, in one line naming it."""
    from rimmodel.io.field_series import read_fields
    from rimmodel.io.results import read_run

    for run_dir in run_dirs:
        read_run(run_dir)
        read_fields(run_dir)


def _outputs(args, run_dirs: list[Path], labels, out: Path) -> list[Path]:
    from rimviz.render import write_animation, write_snapshots

    if args.times:
        _say_which_outputs_are_drawn(run_dirs, args.times)
    written = write_snapshots(run_dirs, out, args.layers, args.times, labels, tuple(args.panel_size), args.camera)
    for wanted, suffix in ((args.gif, ".gif"), (args.mp4, ".mp4")):
        if wanted:
            path = out / f"expansion{suffix}"
            write_animation(run_dirs, path, args.layers, labels, args.time_range, tuple(args.panel_size),
                            args.camera, args.fps)
            written.append(path)
    return written


def _say_which_outputs_are_drawn(run_dirs: list[Path], times: list[float]) -> None:
    """A requested time between outputs is drawn at the nearest one: say so (outside the run: an error)."""
    import sys

    from rimviz.fields import read_fields
    from rimviz.render import TIME_TOLERANCE, common_times, snap_times

    for asked, drawn in snap_times(common_times([read_fields(d) for d in run_dirs]), times):
        if abs(asked - drawn) > TIME_TOLERANCE:
            print(f"rimmodel: --times {asked:g}: no output at {asked:g} yr; drawing the nearest, {drawn:g} yr",
                  file=sys.stderr)


def _render(args) -> int:
    out = args.out or args.run / "render"
    _check_readable([args.run])
    with staged(out) as scratch:
        written = _outputs(args, [args.run], None, scratch) + _radial_profiles(args, scratch)
    for path in written:
        print(out / path.relative_to(scratch))
    return 0


PROFILE_CURVES = 6  # snapshot times drawn in a radial run's profiles unless --times says otherwise


def _radial_profiles(args, out: Path) -> list[Path]:
    """A spherical run's layers against r, beside the snapshots of its section (none for other runs)."""
    import numpy as np

    from rimmodel.io.field_series import SPHERICAL, read_fields, symmetry_of
    from rimviz.radial_profiles import plot_radial_profiles
    from rimviz.render import snap_times

    run = read_fields(args.run)
    if symmetry_of(run) != SPHERICAL:
        return []
    available = [float(t) for t in run.times]
    if args.times:
        times = list(dict.fromkeys(t for _, t in snap_times(available, args.times)))
    else:
        picks = np.linspace(0, len(available) - 1, min(PROFILE_CURVES, len(available))).round().astype(int)
        times = [available[i] for i in dict.fromkeys(picks.tolist())]
    return [plot_radial_profiles(args.run, args.layers, times, out / "radial_profiles.png")]


def _compare(args) -> int:
    from rimviz.plots import plot_time_series

    labels = args.labels or [path.name for path in args.runs]
    if len(labels) != len(args.runs):
        raise SystemExit(f"--labels: got {len(labels)} labels for {len(args.runs)} runs")
    _check_readable(args.runs)
    with staged(args.out) as scratch:
        written = _outputs(args, args.runs, labels, scratch)
        written.append(plot_time_series(args.runs, labels, scratch / "time_series.png"))
    for path in written:
        print(args.out / path.relative_to(scratch))
    return 0


def _report(args) -> int:
    from rimviz.report import write_report

    print(write_report(args.runs, args.out, args.labels))
    return 0
