"""Rendering from run directories: off-screen, not blank, treated differs from untreated,
animations have one frame per output, panels keep their scale, colour bars read cleanly, the
report's view follows its time slider, and the renderer never imports the FEM stack."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rimmodel.cli import main
from rimmodel.config import load_config
from rimmodel.simulation import Simulation

SMALL = ("output.progress=false", "geometry.mesh_size=0.3", "time.end=2.0", "time.output_interval=0.5")
OUTPUTS = 5  # t = 0, 0.5, 1, 1.5, 2


@pytest.fixture(scope="module")
def runs(module_dir):
    simulation = Simulation(load_config(None, SMALL))
    simulation.run(module_dir / "untreated")
    simulation.reconfigure(load_config(None, (*SMALL, "btk.cns_occupancy=1.0", "btk.peripheral_occupancy=1.0")))
    simulation.run(module_dir / "btk")
    return module_dir / "untreated", module_dir / "btk"


def read_image(path):
    import imageio.v3 as iio

    return iio.imread(path)[..., :3].astype(float) / 255.0


def test_snapshots_are_not_blank_and_treatment_shows(runs, shared_dir, comm):
    if comm.rank == 0:  # rendering is serial by design
        from rimviz.render import write_snapshots

        untreated = read_image(write_snapshots([runs[0]], shared_dir / "a", ["myelin_loss"], [2.0])[0])
        treated = read_image(write_snapshots([runs[1]], shared_dir / "b", ["myelin_loss"], [2.0])[0])
        assert untreated.std() > 0.05
        assert np.abs(untreated - treated).mean() > 1e-3


def test_animations_have_one_frame_per_output(runs, shared_dir, comm):
    if comm.rank == 0:
        import imageio.v3 as iio

        assert main(["compare", str(runs[0]), str(runs[1]), "--out", str(shared_dir), "--gif", "--mp4",
                     "--layers", "microglia", "--panel-size", "320", "256"]) == 0
        for name in ("expansion.gif", "expansion.mp4"):
            assert sum(1 for _ in iio.imiter(shared_dir / name)) == OUTPUTS, name
        assert (shared_dir / "time_series.png").stat().st_size > 10_000


def test_3d_runs_render_with_isosurface_and_clip(shared_dir, comm):
    config = load_config(None, ("output.progress=false", "geometry.kind=cortical_slab", "geometry.mesh_size=0.25",
                                "geometry.width=4.0", "geometry.length=1.0", "lesion.centre_x=2.0",
                                "time.end=0.1", "time.output_interval=0.1", "follicles.patches=[]"))
    Simulation(config).run(shared_dir / "slab")
    if comm.rank == 0:
        assert main(["render", str(shared_dir / "slab"), "--out", str(shared_dir / "render"), "--camera", "iso",
                     "--times", "0.1", "--layers", "myelin_loss"]) == 0
        image = read_image(next((shared_dir / "render").glob("*.png")))
        assert image.std() > 0.05


def test_3d_runs_have_a_top_down_section_for_the_report(shared_dir, comm):
    if comm.rank == 0 and (shared_dir / "slab").is_dir():
        from rimviz.section_view import section_data

        data = section_data([shared_dir / "slab"], ["slab"], ["myelin_loss"])
        import base64

        pixels = np.frombuffer(base64.b64decode(data["runs"][0]["frames"]["myelin_loss"][-1]), np.uint8)
        assert (pixels != 255).mean() > 0.5  # the mid-depth cut covers the slab's x-y extent


def tissue_widths(image: np.ndarray, rows: int, columns: int, panel=(480, 400)) -> list[int]:
    """Pixel width of the tissue along the middle row of each panel (the part that is not white)."""
    width, height = panel
    widths = []
    for row in range(rows):
        for col in range(columns):
            line = image[row * height + height // 2, col * width:(col + 1) * width, :3].astype(float) / 255
            painted = np.where(np.abs(line - 1.0).max(axis=1) > 0.05)[0]
            widths.append(int(painted[-1] - painted[0] + 1) if painted.size else 0)
    return widths


def test_panels_keep_their_scale_from_frame_to_frame(comm):
    """Every panel of every frame shows the 8 mm wide section at one size, filling its band (the
    last panel once kept its previous zoom from the second frame on: 292 instead of 322 px)."""
    if comm.rank == 0:
        from rimviz.render import PANEL, Grid
        from rimviz.scene import CONTENT

        grid = Grid([STORED_RUN, STORED_RUN], ["a", "b"], ["myelin_loss", "microglia"])
        try:
            widths = [tissue_widths(grid.draw(t), rows=2, columns=2) for t in (0.0, 1.0, 2.0)]
        finally:
            grid.close()
        every = [w for frame in widths for w in frame]
        assert max(every) - min(every) <= 1, widths
        width_mm, height_mm = 8.0, 7.0  # tests/data/small_run
        expected = width_mm * min(0.9 * PANEL[0] / width_mm, (CONTENT[1] - CONTENT[0]) * PANEL[1] / height_mm)
        assert abs(every[0] - expected) <= 2, (every[0], expected)


def test_colour_bar_title_and_tick_labels_do_not_overlap_and_lines_are_explained(comm):
    """Under the tissue: the colour-bar title above the bar, the tick labels below it (VTK's own
    layout drew both in the same rows); the legend strip names the white, cyan and pink lines,
    and the pink cortex/white-matter boundary crosses the panel."""
    if comm.rank == 0:
        from rimviz.render import PANEL, Grid
        from rimviz.scene import CONTENT

        grid = Grid([STORED_RUN], None, ["myelin_loss"])
        image = grid.draw(2.0).astype(float) / 255
        grid.close()
        width, height = PANEL
        below = image[int((1 - CONTENT[0]) * height):height, int(0.1 * width):int(0.9 * width)]
        spread = below.max(axis=2) - below.min(axis=2)
        bar_rows = np.where((spread > 0.1).mean(axis=1) > 0.5)[0]
        text_rows = np.where(((spread < 0.05) & (below.mean(axis=2) < 0.5)).sum(axis=1) >= 3)[0]
        text_rows = text_rows[~np.isin(text_rows, bar_rows)]
        assert bar_rows.size and (text_rows < bar_rows.min()).any() and (text_rows > bar_rows.max()).any()
        pink = (np.abs(image - np.array([1.0, 0x4F / 255, 0xD8 / 255])).max(axis=2) < 0.1)
        assert pink[:height].sum(axis=1).max() > 0.4 * width  # a boundary line across the tissue
        legend = image[height:]
        for colour in ((1.0, 1.0, 1.0), (0.0, 1.0, 1.0), (1.0, 0x4F / 255, 0xD8 / 255)):
            assert (np.abs(legend - np.array(colour)).max(axis=2) < 0.1).sum() > 20, colour


def test_gif_colour_bars_do_not_band(comm, tmp_path):
    """One palette for all frames, dithered: along each colour bar the GIF frame (averaged over the
    bar's height, smoothed over 5 px) stays within 0.02 of the PNG colour; the former per-frame
    256-colour quantisation left steps up to 0.06."""
    if comm.rank == 0:
        import imageio.v3 as iio

        from rimviz.render import PANEL, Grid, write_animation

        layers = ["myelin_loss", "microglia", "axon_loss"]
        assert write_animation([STORED_RUN], tmp_path / "run.gif", layers) == OUTPUTS
        grid = Grid([STORED_RUN], None, layers)
        exact = grid.draw(2.0).astype(float) / 255
        grid.close()
        frame = iio.imread(tmp_path / "run.gif", index=OUTPUTS - 1)[..., :3].astype(float) / 255
        assert (frame[5, 5] == 1.0).all()  # the background stays white
        width, height = PANEL
        for row in range(len(layers)):
            panel = slice(row * height + int(0.75 * height), (row + 1) * height)
            bar = exact[panel, int(0.2 * width):int(0.8 * width)]
            rows = np.where(bar.std(axis=1).max(axis=1) > 0.1)[0]
            smooth = np.ones(5) / 5
            profiles = [np.stack([np.convolve(image[panel, int(0.2 * width):int(0.8 * width)][rows].mean(axis=0)[:, c],
                                              smooth, mode="valid") for c in range(3)]) for image in (exact, frame)]
            assert np.abs(profiles[0] - profiles[1]).max() < 0.02, layers[row]


def test_render_times_outside_the_run_are_refused_and_files_named_by_the_time_drawn(comm, tmp_path, capsys):
    if comm.rank == 0:
        assert main(["render", str(STORED_RUN), "--out", str(tmp_path), "--times", "7"]) == 2
        error = capsys.readouterr().err
        assert "--times 7" in error and "0 to 2 yr" in error and len(error.strip().splitlines()) == 1
        assert not list(tmp_path.glob("*.png"))
        assert main(["render", str(STORED_RUN), "--out", str(tmp_path), "--times", "0.6", "--layers", "microglia"]) == 0
        printed = capsys.readouterr()
        assert [p.name for p in tmp_path.glob("*.png")] == ["snapshot_t000.50yr.png"]
        assert "0.6" in printed.err and "0.5" in printed.err  # says which output it drew


def test_layers_come_from_the_runs_field_record(comm, tmp_path):
    """fields.json decides the layers (a field layer each, a loss layer where declared, its label,
    colour map and limits); without it, the five classic fields; a layer the run cannot draw, or a
    broken record, is a one-line error naming the choices or the file."""
    if comm.rank == 0:
        import json

        from rimviz.fields import read_fields
        from rimviz.layers import layers_of, shared_limits

        assert list(layers_of(STORED_RUN)) == ["microglia", "mediator", "follicle_factor", "myelin", "myelin_loss",
                                               "axons", "axon_loss"]
        run = tmp_path / "run"
        shutil.copytree(STORED_RUN, run)
        record = {"format": "rimmodel-fields/1", "fields": [
            {"name": "mediator", "symbol": "c", "unit": "1", "description": "d", "bounds": [0.0, None],
             "layer": {"label": "mediator (K_s)", "cmap": "bone", "limits": [0.0, 2.0],
                       "loss": {"name": "mediator_headroom", "label": "2 - mediator"}}},
            {"name": "astrocytes", "symbol": "A", "unit": "1", "description": "not in this run's fields",
             "bounds": [0.0, 1.0], "layer": {"label": "reactive astrocytes", "cmap": "bone", "limits": None}}]}
        (run / "fields.json").write_text(json.dumps(record))
        layers = layers_of(run)
        assert list(layers) == ["mediator", "mediator_headroom", "astrocytes"]
        headroom = layers["mediator_headroom"]
        series = read_fields(run)
        assert (headroom.title, headroom.cmap, shared_limits(headroom, [series])) == ("2 - mediator", "bone", (0.0, 2.0))
        assert np.allclose(headroom.values(series, 4), 1.0 - series.values("mediator", 4))
        assert main(["render", str(run), "--out", str(tmp_path / "ok"), "--times", "2", "--layers", "mediator"]) == 0
        assert main(["render", str(run), "--out", str(tmp_path / "no"), "--layers", "astrocytes"]) == 2
        assert main(["render", str(run), "--out", str(tmp_path / "no"), "--layers", "microglia"]) == 2
        (run / "fields.json").write_text("{not json")
        assert main(["render", str(run), "--out", str(tmp_path / "no")]) == 2
        assert not (tmp_path / "no").exists()


def test_dose_response_arm_labels_do_not_overlap(tmp_path):
    """Arms with nearly equal occupancy and effect (early and late start of one drug) stay legible."""
    import matplotlib

    matplotlib.use("Agg")
    from rimmodel.trial.report import dose_response_figure
    from rimmodel.trial.runner import PLACEBO
    from rimmodel.trial.statistics import LesionOutcome

    def arm(occupancy, rate):
        return [LesionOutcome(rate, 1.0, 0.1, None, occupancy) for _ in range(3)]

    outcomes = {PLACEBO: arm(0.0, 0.16), "tolebrutinib 60 mg": arm(0.80, 0.060),
                "tolebrutinib 60 mg from yr 3": arm(0.79, 0.062), "evobrutinib 75 mg BID": arm(0.81, 0.058)}
    figure = dose_response_figure(tmp_path / "dose_response.png", outcomes)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)  # the figure as saved, laid out again for measuring
    canvas.draw()
    renderer = canvas.get_renderer()
    texts = [t for t in figure.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text()]
    boxes = [t.get_window_extent(renderer) for t in texts]
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (texts[i].get_text(), texts[j].get_text())
    for name in outcomes:
        assert any(t.get_text() == name for t in texts), name
    assert (tmp_path / "dose_response.png").stat().st_size > 10_000


@pytest.mark.serial
def test_the_renderer_never_imports_the_fem_stack(runs, tmp_path):
    """Blocking dolfinx, mpi4py and petsc4py makes any import of them fail loudly."""
    script = (
        "import sys\n"
        "for name in ('dolfinx', 'mpi4py', 'petsc4py', 'ufl', 'basix'):\n"
        "    sys.modules[name] = None\n"
        "from rimmodel.cli import main\n"
        f"assert main(['render', {str(runs[0])!r}, '--out', {str(tmp_path)!r}, '--times', '2']) == 0\n"
        "from rimmodel.io.results import read_run\n"
        f"assert read_run({str(runs[0])!r}).status == 'completed'\n")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=300)
    assert list(tmp_path.glob("*.png"))


STORED_RUN = Path(__file__).parent / "data" / "small_run"  # written by the solver (see tests/data/README.md)
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-unsafe-swiftshader", "--use-angle=swiftshader", "--enable-logging=stderr", "--v=0",
                  "--virtual-time-budget=15000", "--window-size=1200,1000")
OBSERVABLE_COLUMNS = 3


@pytest.mark.serial
def test_html_report_is_self_contained_and_its_view_follows_the_time_slider(runs, tmp_path):
    """The report in headless Chromium at two slider times (set through the page address): no
    console errors, the time shown changes, the pictures change, and at t = 0 (one initial
    state) the untreated and treated panels are identical while at the end they differ."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (make test installs it when run as root)")
    report = tmp_path / "report.html"
    assert main(["report", str(runs[0]), str(runs[1]), "--out", str(report)]) == 0
    text = report.read_text()
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']https?:", text)  # nothing fetched
    observables = re.search(r"alt='time series' src='data:image/png;base64,([^']+)'", text).group(1)
    width = read_image_bytes(observables).shape[1]
    assert width <= 1200 and width / OBSERVABLE_COLUMNS >= 350  # each plot readable at the page's width
    shots = {}
    for t in (0.0, 2.0):
        shot = tmp_path / f"view_t{t:g}.png"
        browser = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                                  f"--screenshot={shot}", "--dump-dom", f"{report.as_uri()}#time={t:g}&layer=microglia"],
                                 capture_output=True, text=True, timeout=300)
        console = [line for line in browser.stderr.splitlines() if ":CONSOLE" in line]
        assert not [line for line in console if re.search(r"Uncaught|Error|Failed", line)], console
        assert f">t = {t:.1f} yr</output>" in browser.stdout
        shots[t] = read_image(shot)
    assert shots[0.0].std() > 0.05
    assert np.abs(shots[0.0] - shots[2.0]).mean() > 0.005  # measured 0.011
    untreated, treated = panel_halves(shots[0.0])
    assert np.abs(untreated - treated).mean() < 0.002  # measured 0.0002: one initial state
    untreated, treated = panel_halves(shots[2.0])
    assert np.abs(untreated - treated).mean() > 0.01  # measured 0.019: BTK slowed the rim


def panel_halves(shot):
    """The two heatmaps of a two-run view: the tallest band of mostly painted rows, and in it the
    first two groups of painted columns (the third is the colour bar)."""
    painted = shot.min(axis=2) < 0.9
    rows = np.where(painted.mean(axis=1) > 0.5)[0]
    band = max(np.split(rows, np.where(np.diff(rows) > 1)[0] + 1), key=len)
    columns = np.where(painted[band].mean(axis=0) > 0.9)[0]
    first, second = np.split(columns, np.where(np.diff(columns) > 5)[0] + 1)[:2]
    width = min(first.size, second.size)
    return shot[band, first[0]:first[0] + width], shot[band, second[0]:second[0] + width]


def read_image_bytes(base64_png: str) -> np.ndarray:
    import base64

    import imageio.v3 as iio

    return iio.imread(base64.b64decode(base64_png))


@pytest.mark.serial
def test_stored_run_renders_in_a_fresh_environment_without_dolfinx(tmp_path):
    """A venv with only the viz extra's packages: what a lab member has on a laptop."""
    python = viz_only_environment()
    assert subprocess.run([str(python), "-c", "import dolfinx"], capture_output=True).returncode != 0
    rimmodel = python.parent / "rimmodel"
    subprocess.run([str(rimmodel), "render", str(STORED_RUN), "--out", str(tmp_path / "render"), "--gif"],
                   check=True, timeout=300)
    subprocess.run([str(rimmodel), "report", str(STORED_RUN), "--out", str(tmp_path / "report.html")],
                   check=True, timeout=300)
    assert len(list((tmp_path / "render").glob("*.png"))) == 3
    assert (tmp_path / "render" / "expansion.gif").stat().st_size > 0
    assert (tmp_path / "report.html").stat().st_size > 100_000


def viz_only_environment() -> Path:
    """Create (once per pyproject version) .venv/viz-only with the viz extra and no FEM stack."""
    root = Path(__file__).parent.parent
    digest = hashlib.sha256((root / "pyproject.toml").read_bytes()).hexdigest()[:12]
    venv = root / ".venv" / "viz-only"
    python, stamp = venv / "bin" / "python", venv / f".ready-{digest}"
    if not stamp.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "--no-deps", "-e", str(root)], check=True, timeout=600)
        subprocess.run([*pip, "numpy", "h5py", "tomli-w", "tqdm", "pyvista", "matplotlib", "imageio",
                        "imageio-ffmpeg", "plotly"], check=True, timeout=1200)
        stamp.touch()
    return python


def test_the_report_shows_a_run_whose_process_is_gone_as_stale(tmp_path):
    from rimviz.report import summary_table

    run = tmp_path / "run"
    shutil.copytree(STORED_RUN, run)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    status = {"status": "running", "reason": "", "pid": int(gone.stdout), "host": os.uname().nodename,
              "heartbeat": "then", "heartbeat_unix": time.time() - 12 * 60, "stale_after_s": 600.0}
    (run / "status.json").write_text(json.dumps(status))
    assert "<td>stale: last heartbeat 12 min ago</td>" in summary_table([run], ["run"])
    far = status | {"host": "another-node", "heartbeat_unix": time.time() - 90 * 60}
    (run / "status.json").write_text(json.dumps(far))  # cannot be checked from here: the heartbeat decides
    assert "<td>stale: last heartbeat 90 min ago</td>" in summary_table([run], ["run"])
    (run / "status.json").write_text(json.dumps(status | {"pid": os.getpid(), "heartbeat_unix": time.time()}))
    assert "<td>running</td>" in summary_table([run], ["run"])  # alive
