"""Rendering from run directories: off-screen, not blank, treated differs from untreated,
animations have one frame per output, and the renderer never imports the FEM stack."""

import hashlib
import re
import shutil
import subprocess
import sys
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
                  "--virtual-time-budget=15000", "--window-size=1200,2400")


@pytest.mark.serial
def test_html_report_is_self_contained_and_loads_in_headless_chromium(runs, tmp_path):
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed (make setup installs it when run as root)")
    report = tmp_path / "report.html"
    assert main(["report", str(runs[0]), str(runs[1]), "--out", str(report)]) == 0
    text = report.read_text()
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']https?:", text)  # nothing fetched
    screenshot = tmp_path / "shot.png"
    browser = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                              f"--screenshot={screenshot}", report.as_uri()],
                             capture_output=True, text=True, timeout=180)
    console = [line for line in browser.stderr.splitlines() if ":CONSOLE" in line]
    errors = [line for line in console if re.search(r"Uncaught|Error|Failed", line)]
    assert not errors, errors
    assert read_image(screenshot).std() > 0.05


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
