"""The reference demo: an untreated chronic active lesion vs BTK inhibition (occupancy 0.8).

Both runs share one mesh and one set of compiled forms (the second run only
changes parameter values), then one comparison image and one plot are drawn.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from rimmodel.config import load_config
from rimmodel.fem import MPI
from rimmodel.io.results import read_run
from rimmodel.simulation import Simulation

BTK_OCCUPANCY = 0.8


def run_demo(out_dir: str | Path = "runs/demo", years: float = 10.0, overrides: tuple[str, ...] = (),
             comm=MPI.COMM_WORLD) -> dict[str, Path]:
    out_dir = Path(out_dir)
    started = time.perf_counter()
    arms = {
        "untreated": load_config(None, (f"time.end={years}", *overrides)),
        f"btk_{BTK_OCCUPANCY}": load_config(None, (f"time.end={years}", f"btk.cns_occupancy={BTK_OCCUPANCY}",
                                                   f"btk.peripheral_occupancy={BTK_OCCUPANCY}", *overrides)),
    }
    simulation = None
    for name, config in arms.items():
        if simulation is None:
            simulation = Simulation(config, comm)
        else:
            simulation.reconfigure(config)
        simulation.run(out_dir / name, overwrite=True)  # the demo's own output: rerunning replaces it
    runs = {name: out_dir / name for name in arms}
    figures = {}
    if comm.rank == 0:
        figures = _draw(out_dir, runs)
        _summarise(runs, time.perf_counter() - started, figures)
    return runs | figures


def _draw(out_dir: Path, runs: dict[str, Path]) -> dict[str, Path]:
    from rimviz.plots import plot_time_series
    from rimviz.snapshot import render_comparison

    labels = list(runs)
    return {
        "comparison": render_comparison(list(runs.values()), labels, out_dir / "comparison.png"),
        "time_series": plot_time_series(list(runs.values()), labels, out_dir / "lesion_size.png"),
    }


def _summarise(runs: dict[str, Path], wall: float, figures: dict[str, Path]) -> None:
    print(f"rimmodel demo: {len(runs)} runs in {wall:.1f} s")
    for name, path in runs.items():
        run = read_run(path)
        radius, t = run.observables["lesion_equivalent_radius"], run.time
        late = t >= t[-1] / 2
        rate = np.polyfit(t[late], radius[late], 1)[0]
        print(f"  {name:12s} lesion radius {radius[0]:.2f} -> {radius[-1]:.2f} mm, expansion "
              f"{rate:.3f} mm/yr (second half), rim thickness {run.observables['rim_thickness'][-1]:.2f} mm, "
              f"axon loss {run.observables['axon_loss'][-1]:.2f} {run.units['axon_loss']}   -> {path}")
    for name, path in figures.items():
        print(f"  {name}: {path}")
