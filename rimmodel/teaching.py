"""The teaching demos: jupytext notebooks in ``experiments/teaching/``, also run as scripts.

``rimmodel demo --list`` lists them; ``rimmodel demo NAME`` runs one (``NAME`` is the file
stem, or its number). Each notebook writes its figures to ``RIMMODEL_DEMO_OUT`` (default
``runs/teaching/<stem>``), shows them inline when run in Jupyter, and asserts the claim it
teaches, so CI checks the lesson.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path

from rimmodel.config import ConfigError

TEACHING_DIR = Path(__file__).resolve().parents[1] / "experiments" / "teaching"
OUT_VARIABLE = "RIMMODEL_DEMO_OUT"


def list_demos() -> dict[str, str]:
    """{file stem: title (the notebook's first heading)}."""
    if not TEACHING_DIR.is_dir():
        raise FileNotFoundError(f"teaching demos not found in {TEACHING_DIR} (they ship with the repository)")
    demos = {}
    for path in sorted(TEACHING_DIR.glob("[0-9]*.py")):
        title = next((line.lstrip("# ").strip() for line in path.read_text().splitlines()
                      if line.startswith("# # ")), path.stem)
        demos[path.stem] = title
    return demos


def find_demo(name: str) -> Path:
    demos = list_demos()
    matches = [stem for stem in demos if stem == name or stem.split("_", 1)[0].lstrip("0") == name.lstrip("0")
               or stem.split("_", 1)[-1] == name]
    if len(matches) != 1:
        raise ConfigError(f"demo {name!r}: not one of {', '.join(demos)} (see rimmodel demo --list)")
    return TEACHING_DIR / f"{matches[0]}.py"


def run_teaching_demo(name: str, out_dir: str | Path | None = None) -> dict:
    """Run a notebook as a script; returns its global namespace (its results)."""
    path = find_demo(name)
    out = Path(out_dir) if out_dir is not None else Path("runs/teaching") / path.stem
    previous = os.environ.get(OUT_VARIABLE)
    os.environ[OUT_VARIABLE] = str(out)
    try:
        return runpy.run_path(str(path), run_name="__main__")
    finally:
        if previous is None:
            os.environ.pop(OUT_VARIABLE, None)
        else:
            os.environ[OUT_VARIABLE] = previous


def demo_output_dir(stem: str) -> Path:
    """Where a notebook writes: set by ``rimmodel demo``, or runs/teaching/<stem> when run directly."""
    out = Path(os.environ.get(OUT_VARIABLE, Path("runs/teaching") / stem))
    out.mkdir(parents=True, exist_ok=True)
    return out


def show(figure: str | Path) -> None:
    """A figure file (PNG or GIF) inline when the notebook runs in a Jupyter kernel; as a script,
    where it was written."""
    figure = Path(figure)
    if not _in_jupyter_kernel():
        print(f"figure: {figure}")
        return
    from IPython.display import Image, display

    display(Image(filename=str(figure)))


def _in_jupyter_kernel() -> bool:
    import sys

    if "IPython" not in sys.modules:  # a script never imported it: no kernel to display in
        return False
    from IPython import get_ipython

    return getattr(get_ipython(), "kernel", None) is not None


def run_scenarios(scenarios: dict[str, tuple[str, ...]], out_dir: Path, comm=None) -> dict[str, Path]:
    """One run per scenario (``section.key=value`` overrides of the defaults), sharing one mesh and
    one set of compiled forms when only parameter values differ."""
    from rimmodel.config import load_config
    from rimmodel.fem import MPI
    from rimmodel.simulation import Simulation

    comm = comm or MPI.COMM_WORLD
    simulation, runs = None, {}
    for name, overrides in scenarios.items():
        config = load_config(None, ("output.progress=false", "output.checkpoints=false", *overrides))
        try:
            if simulation is None:
                raise ConfigError("first scenario")
            simulation.reconfigure(config)
        except ConfigError:
            simulation = Simulation(config, comm)
        simulation.run(out_dir / name, overwrite=True)
        runs[name] = out_dir / name
    return runs
