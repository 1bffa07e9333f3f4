"""The radial (spherical) lesion model: rimmodel against py-pde's SphericalSymGrid (issue 17).

    .venv/bin/python benchmarks/radial_versus_pypde.py            # references, accuracy search, timings
    .venv/bin/python benchmarks/radial_versus_pypde.py --quick    # stored settings (radial_versus_pypde.json)

py-pde is a benchmark-only dependency: ``pip install -e ".[bench]"``.

The problem is the model's default 10-year lesion, isolated in a ball of white matter of radius
6 mm with a no-flux wall, seeded as rimmodel seeds it (tanh core of radius 1 mm). Without a pia
the follicle factor stays zero, so py-pde evolves the other four fields, in spherical coordinates:
    m_t = D_m lap m - chi [(1 - 2m) m_r c_r + m (1 - m) lap c] + (1 - E_m b) r_m c/(K_s + c) (sigma_0 + m)(1 - m)
          + r_0 (sigma_0 + m)(1 - m) - delta_m m
    c_t = D_c lap c - k_c c + p_c m y + p_m m
    y_t = -k_ym m y + k_r (1 - y)(1 - m)
    a_t = -[k_am m (1 + gamma (1 - y)) + k_ad (1 - y)] a
rimmodel solves all five fields (rimmodel.batch.RadialBatch with one sample: P1 in r with the r^2
weight, lumped mass, BDF2, chord-Newton, serial banded LU). py-pde uses its finite differences on
a cell-centred SphericalSymGrid and ScipySolver's BDF (the mediator is stiff: explicit steps would
be bound by h^2/(2 D_c), ~10^6 steps), with its numba backend (compiled right-hand side) and its
numpy backend.

Front position: the radius where myelin crosses 0.5, linear between nodes (rimmodel) or cell
centres (py-pde). Front error: |X - X_ref| / (X_ref - X_0) at 10 years, relative to the distance the
edge travels; X_ref is py-pde at 80 cells/mm with rtol 1e-8 (a fine rimmodel run is checked
against it). The accuracy search and the timing protocol are those of benchmarks/versus_pypde.py:
coarsest resolution whose setting and the next tighter one are both within 1 %; every timed run is
a fresh process with empty dolfinx/numba JIT caches; "first" is process start to the end of the
first solve, "second" a second solve in the same process; ratios are medians of alternating runs.
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

OUTER_RADIUS = 6.0       # mm
END = 10.0               # yr
TOLERANCE = 0.01
RESOLUTIONS = (4, 6, 8, 10, 12, 16, 20)      # cells per mm, both codes
STEP_COUNTS = (10, 20, 40, 80)               # rimmodel: fixed BDF2 target steps over 10 years
RTOLS = (1e-3, 1e-4, 1e-5, 1e-6)             # py-pde ScipySolver (atol = rtol / 100)
REFERENCE_RESOLUTION, REFERENCE_RTOL = 80, 1e-8
BACKENDS = ("numba", "numpy")
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
SETTINGS_FILE = Path(__file__).with_suffix(".json")
RIMMODEL_BASE = ('geometry.kind="spherical_lesion"', f"geometry.outer_radius={OUTER_RADIUS}",
                 f"time.end={END}", f"time.output_interval={END}")


@dataclass
class Trial:
    code: str
    backend: str
    cells_per_mm: int
    setting: float        # rimmodel: dt (yr); py-pde: rtol
    unknowns: int
    steps: int
    start: float          # front position at t = 0 (mm)
    position: float       # at the end
    first_s: float = float("nan")
    second_s: float = float("nan")


def front_position(r: np.ndarray, myelin: np.ndarray) -> float:
    """Innermost radius where myelin rises through 0.5, linear between the sample points."""
    above = np.flatnonzero(myelin >= 0.5)
    if above.size == 0:
        return float(r[-1])
    i = above[0]
    if i == 0:
        return float(r[0])
    return float(r[i - 1] + (0.5 - myelin[i - 1]) * (r[i] - r[i - 1]) / (myelin[i] - myelin[i - 1]))


def base_config(overrides=()):
    from rimmodel.config import load_config

    return load_config(None, RIMMODEL_BASE + tuple(overrides))


# ---------------------------------------------------------------------------------------------- rimmodel

class RimmodelRadial:
    def __init__(self, cells_per_mm: int, dt: float):
        from rimmodel.batch.runner import RadialBatch

        self.cells_per_mm, self.dt = cells_per_mm, dt
        config = base_config((f"geometry.mesh_size={1.0 / cells_per_mm}", f"time.dt={dt}"))
        self.batch = RadialBatch([config])

    def solve(self) -> Trial:
        result = self.batch.run()
        start = front_position(*self._seed_profile())
        position = front_position(*self.batch.radial_profile(0, "myelin"))
        return Trial("rimmodel", "dolfinx", self.cells_per_mm, self.dt, self.batch.disc.global_dofs(), result.steps,
                     start, position)

    def _seed_profile(self):
        from rimmodel.physics.equations import FIELDS
        from rimmodel.physics.initial_state import initial_fields

        r = np.linspace(0.0, OUTER_RADIUS, round(OUTER_RADIUS * self.cells_per_mm) + 1)
        points = np.zeros((3, r.size))
        points[0] = r
        return r, initial_fields(points, np.zeros(1), self.batch.configs[0].lesion, FIELDS)["myelin"]


# ---------------------------------------------------------------------------------------------- py-pde

NO_FLUX = {"derivative": 0}


def _rates(config) -> dict:
    g, c, y, a = config.microglia, config.mediator, config.myelin, config.axons
    occupancy = config.btk.cns_occupancy
    return dict(D_m=g.diffusivity, chi=g.chemotactic_sensitivity, r_0=g.basal_growth_rate, r_m=g.activation_rate,
                K_s=g.half_saturation, sigma_0=g.resting_pool, delta_m=g.deactivation_rate,
                btk=1.0 - config.btk.microglial_efficacy * occupancy, D_c=c.diffusivity, k_c=c.decay_rate,
                p_c=c.debris_production, p_m=c.microglial_production, k_ym=y.microglial_damage_rate,
                k_r=y.remyelination_rate, k_am=a.microglial_damage_rate, gamma=a.demyelination_amplification,
                k_ad=a.demyelinated_degeneration_rate)


def _lesion_pde():
    from pde import FieldCollection
    from pde.pdes.base import PDEBase

    class RadialLesion(PDEBase):
        """The model without follicle factor (zero without a pia), fields m, c, y, a."""

        explicit_time_dependence = False

        def __init__(self, rates: dict):
            super().__init__()
            self.k = rates

        def evolution_rate(self, state, t=0):
            k = self.k
            m, c, y, a = state
            lap_c = c.laplace(NO_FLUX)
            grad_m, grad_c = m.gradient(NO_FLUX), c.gradient(NO_FLUX)
            taxis = k["chi"] * ((1 - 2 * m) * grad_m.dot(grad_c) + m * (1 - m) * lap_c)
            activation = k["r_0"] + k["btk"] * k["r_m"] * c / (k["K_s"] + c)
            m_t = k["D_m"] * m.laplace(NO_FLUX) - taxis + activation * (k["sigma_0"] + m) * (1 - m) - k["delta_m"] * m
            c_t = k["D_c"] * lap_c - k["k_c"] * c + k["p_c"] * m * y + k["p_m"] * m
            y_t = -k["k_ym"] * m * y + k["k_r"] * (1 - y) * (1 - m)
            a_t = -(k["k_am"] * m * (1 + k["gamma"] * (1 - y)) + k["k_ad"] * (1 - y)) * a
            return FieldCollection([m_t, c_t, y_t, a_t])

        def make_evolution_rate(self, state, backend):
            grid = state.grid
            laplace = grid.make_operator("laplace", bc=NO_FLUX, backend=backend)
            gradient = grid.make_operator("gradient", bc=NO_FLUX, backend=backend)
            k = self.k
            D_m, chi, r_0, r_m, K_s, sigma_0, delta_m, btk = (k[s] for s in ("D_m", "chi", "r_0", "r_m", "K_s",
                                                                              "sigma_0", "delta_m", "btk"))
            D_c, k_c, p_c, p_m, k_ym, k_r = (k[s] for s in ("D_c", "k_c", "p_c", "p_m", "k_ym", "k_r"))
            k_am, gamma, k_ad = k["k_am"], k["gamma"], k["k_ad"]

            def rate(u, t=0):
                m, c, y, a = u[0], u[1], u[2], u[3]
                lap_c = laplace(c)
                taxis = chi * ((1 - 2 * m) * gradient(m)[0] * gradient(c)[0] + m * (1 - m) * lap_c)
                activation = r_0 + btk * r_m * c / (K_s + c)
                out = np.empty_like(u)
                out[0] = D_m * laplace(m) - taxis + activation * (sigma_0 + m) * (1 - m) - delta_m * m
                out[1] = D_c * lap_c - k_c * c + p_c * m * y + p_m * m
                out[2] = -k_ym * m * y + k_r * (1 - y) * (1 - m)
                out[3] = -(k_am * m * (1 + gamma * (1 - y)) + k_ad * (1 - y)) * a
                return out
            return rate

    return RadialLesion


def _counted_bdf():
    from scipy.integrate import BDF

    class CountedBDF(BDF):
        accepted = 0

        def _step_impl(self):
            success, message = super()._step_impl()
            CountedBDF.accepted += int(success)
            return success, message
    return CountedBDF


def banded_sparsity(cells: int, fields: int = 4):
    """Every field at a cell depends on every field at the cell and its two neighbours (a superset)."""
    import scipy.sparse as sp

    line = sp.diags([1.0, 1.0, 1.0], [-1, 0, 1], shape=(cells, cells))
    return sp.kron(np.ones((fields, fields)), line).tocsc()


class PypdeRadial:
    def __init__(self, cells_per_mm: int, rtol: float, backend: str):
        import pde

        self.cells_per_mm, self.rtol, self.backend = cells_per_mm, rtol, backend
        self.config = base_config()
        cells = round(OUTER_RADIUS * cells_per_mm)
        self.grid = pde.SphericalSymGrid(radius=OUTER_RADIUS, shape=cells)
        self.equation = _lesion_pde()(_rates(self.config))
        self.bdf = _counted_bdf()
        self.solver = pde.ScipySolver(self.equation, backend=backend, method=self.bdf, rtol=rtol, atol=rtol / 100,
                                      jac_sparsity=banded_sparsity(cells))
        self._stepper = None

    def initial_state(self):
        import pde

        from rimmodel.physics.equations import FIELDS
        from rimmodel.physics.initial_state import initial_fields

        r = self.grid.cell_coords[:, 0]
        points = np.zeros((3, r.size))
        points[0] = r
        seed = initial_fields(points, np.zeros(1), self.config.lesion, FIELDS)
        return pde.FieldCollection([pde.ScalarField(self.grid, seed[name])
                                    for name in ("microglia", "mediator", "myelin", "axons")])

    def solve(self) -> Trial:
        state = self.initial_state()
        r = self.grid.cell_coords[:, 0]
        start = front_position(r, state[2].data)
        if self._stepper is None:
            self._stepper = self.solver.make_stepper(state, dt=None)
        self.bdf.accepted = 0
        self._stepper(state, 0.0, END)
        return Trial("py-pde", self.backend, self.cells_per_mm, self.rtol, state.data.size, self.bdf.accepted,
                     start, front_position(r, state[2].data))


# ---------------------------------------------------------------------------------------------- child processes

def make(spec: dict):
    if spec["code"] == "rimmodel":
        return RimmodelRadial(spec["cells_per_mm"], spec["setting"])
    return PypdeRadial(spec["cells_per_mm"], spec["setting"], spec["backend"])


def error(trial: dict | Trial, reference: float) -> float:
    t = asdict(trial) if isinstance(trial, Trial) else trial
    return abs(t["position"] - reference) / (reference - t["start"])


def child(task: dict) -> None:
    emit = lambda record: print(json.dumps(record), flush=True)  # noqa: E731
    if task["task"] == "time":
        solver = make(task)
        trial = solver.solve()
        trial.first_s = time.perf_counter() - _STARTED
        started = time.perf_counter()
        again = solver.solve()
        trial.second_s = time.perf_counter() - started
        if not np.isclose(again.position, trial.position, rtol=1e-9):
            raise RuntimeError(f"second solve differs: {again.position} vs {trial.position}")
        emit(asdict(trial))
    elif task["task"] == "reference":
        emit(asdict(PypdeRadial(REFERENCE_RESOLUTION, REFERENCE_RTOL, "numpy").solve()))
        emit(asdict(RimmodelRadial(REFERENCE_RESOLUTION, END / 400).solve()))
    elif task["task"] == "search":
        search(task, emit)


def search(task: dict, emit) -> None:
    settings = [END / n for n in STEP_COUNTS] if task["code"] == "rimmodel" else list(RTOLS)
    for cells_per_mm in RESOLUTIONS:
        errors = []
        for setting in settings:
            try:
                trial = make({**task, "cells_per_mm": cells_per_mm, "setting": setting}).solve()
                errors.append(error(trial, task["reference"]))
                emit({"kind": "trial", **asdict(trial), "error": errors[-1]})
            except RuntimeError as failure:
                errors.append(float("inf"))
                emit({"kind": "trial", "cells_per_mm": cells_per_mm, "setting": setting, "error": "failed: "
                      + str(failure)[-100:]})
            if len(errors) >= 2 and max(errors[-2:]) <= TOLERANCE:
                return emit({"kind": "choice", "cells_per_mm": cells_per_mm, "setting": settings[len(errors) - 2]})
            if len(errors) >= 2 and errors[-1] > TOLERANCE and abs(errors[-1] - errors[-2]) < TOLERANCE / 4:
                break  # the spatial error alone is too large
    emit({"kind": "choice", "cells_per_mm": None, "setting": None})


def launch(task: dict, cold: bool = False) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="radial-pypde-") as scratch:
        env = os.environ | SINGLE_THREAD
        if cold:
            env |= {"XDG_CACHE_HOME": scratch, "NUMBA_CACHE_DIR": str(Path(scratch) / "numba")}
        done = subprocess.run([sys.executable, __file__, "--child", json.dumps(task)], capture_output=True, text=True,
                              env=env, cwd=scratch, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{task} failed:\n{done.stderr[-3000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


# ---------------------------------------------------------------------------------------------- parent

def full_search(log) -> tuple[float, list[dict]]:
    pypde_ref, rimmodel_fine = launch({"task": "reference"})
    reference = pypde_ref["position"]
    log(f"reference: py-pde {REFERENCE_RESOLUTION} cells/mm rtol {REFERENCE_RTOL:g}: X = {reference:.5f} mm "
        f"(X_0 = {pypde_ref['start']:.5f}); rimmodel {REFERENCE_RESOLUTION} cells/mm dt = {END / 400:g} yr: "
        f"X = {rimmodel_fine['position']:.5f} mm, {error(rimmodel_fine, reference):.3%} of the travel from it")
    choices = []
    for code in ("rimmodel", "py-pde"):
        records = launch({"task": "search", "code": code, "backend": "numpy" if code == "py-pde" else "dolfinx",
                          "reference": reference})
        for r in records[:-1]:
            outcome = r["error"] if isinstance(r["error"], str) else f"{r['error']:.3%}"
            log(f"  search {code:8} {r['cells_per_mm']:3d} cells/mm setting {r['setting']:<8.3g} "
                f"steps {r.get('steps', '-')!s:>5} error {outcome}")
        choice = records[-1]
        if choice["cells_per_mm"] is None:
            log(f"  {code}: no setting within {TOLERANCE:.0%}")
            continue
        backends = ("dolfinx",) if code == "rimmodel" else BACKENDS
        choices += [{"code": code, "backend": b, "cells_per_mm": choice["cells_per_mm"], "setting": choice["setting"]}
                    for b in backends]
    return reference, choices


def timings(choices: list[dict], repetitions: int) -> dict[tuple, list[dict]]:
    for warm_up in {c["code"]: c for c in choices}.values():  # shared libraries into the OS file cache
        launch({"task": "time", **warm_up}, cold=True)
    found = {(c["code"], c["backend"]): [] for c in choices}
    for _ in range(repetitions):
        for choice in choices:
            (record,) = launch({"task": "time", **choice}, cold=True)
            found[(choice["code"], choice["backend"])].append(record)
    return found


def report(found: dict[tuple, list[dict]], reference: float, log) -> None:
    rimmodel = found[("rimmodel", "dolfinx")]
    log("| code (backend) | cells/mm | step setting | unknowns | steps | first solve incl. compilation (s) | "
        "second solve (s) | front error | rimmodel / this, incl. | rimmodel / this, excl. |")
    log("|---|---|---|---|---|---|---|---|---|---|")
    for (code, backend), runs in found.items():
        first, second = (statistics.median(r[k] for r in runs) for k in ("first_s", "second_s"))
        ratios = ["", ""] if code == "rimmodel" else [
            f"{statistics.median(a[k] / b[k] for a, b in zip(rimmodel, runs)):.2f}" for k in ("first_s", "second_s")]
        setting = f"dt = {runs[0]['setting']:g} yr" if code == "rimmodel" else f"rtol = {runs[0]['setting']:g}"
        log(f"| {code} ({backend}) | {runs[0]['cells_per_mm']} | {setting} | {runs[0]['unknowns']} | "
            f"{runs[0]['steps']} "
            f"| {first:.2f} | {second:.3f} | {error(runs[0], reference):.2%} | {ratios[0]} | {ratios[1]} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true",
                        help=f"settings stored by the last full run ({SETTINGS_FILE.name})")
    parser.add_argument("--repetitions", type=int, help="alternating repetitions (default 3; --quick: 1)")
    args = parser.parse_args()
    if args.child:
        return child(json.loads(args.child))
    log = lambda text: print(text, flush=True)  # noqa: E731
    if args.quick:
        stored = json.loads(SETTINGS_FILE.read_text())
        reference, choices = stored["reference"], stored["choices"]
        log(f"Quick mode: settings and reference stored on {stored['measured']}.")
    else:
        reference, choices = full_search(log)
        SETTINGS_FILE.write_text(json.dumps({"measured": datetime.date.today().isoformat(), "reference": reference,
                                             "choices": choices}, indent=1) + "\n")
    repetitions = args.repetitions or (1 if args.quick else 3)
    found = timings(choices, repetitions)
    log(f"\nRadial lesion, 10 years, front within {TOLERANCE:.0%} of the travel; medians of {repetitions} alternating "
        f"fresh-process runs (ratios < 1: rimmodel faster):\n")
    report(found, reference, log)


if __name__ == "__main__":
    main()
