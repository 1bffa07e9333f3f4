"""Run every verification case and write docs/verification.md (``rimmodel verify``)."""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

from rimmodel.config import load_config
from rimmodel.fem import MPI
from rimmodel.verification.chemotactic_instability import (Subsystem, critical_sensitivity,
                                                           fastest_wavelength, pattern_run)
from rimmodel.verification.conservation import chemotaxis_conservation
from rimmodel.verification.fisher_kpp import front_speed
from rimmodel.verification.manufactured import (linear_solution, observed_order, smooth_solution,
                                                solve_manufactured)
from rimmodel.verification.pial_source import steady_pial_profile

MMS_LEVELS = {(2, 1): (8, 16, 32), (2, 2): (8, 16, 32), (3, 1): (4, 8, 16), (3, 2): (2, 4, 8)}


def _stationary(x, t, dim):
    return smooth_solution(x, 0.0 * t, dim)


def manufactured_section(comm) -> list[str]:
    lines = ["## Manufactured solutions (all fields, chemotaxis, pial flux, BTK terms)", "",
             "| dim | degree | cells/side | DOFs | L2 error | L2 order | H1 error | H1 order |",
             "|---|---|---|---|---|---|---|---|"]
    for (dim, degree), levels in MMS_LEVELS.items():
        errors = [solve_manufactured(comm, dim, degree, n, 1e6, 1e6, "bdf1", _stationary) for n in levels]
        for i, (n, error) in enumerate(zip(levels, errors)):
            orders = ("", "") if i == 0 else tuple(
                f"{observed_order([1 / levels[i - 1], 1 / n], [getattr(errors[i - 1], k), getattr(error, k)]):.2f}"
                for k in ("l2", "h1"))
            lines.append(f"| {dim} | P{degree} | {n} | {error.dofs} | {error.l2:.3e} | {orders[0]} | "
                         f"{error.h1:.3e} | {orders[1]} |")
    lines += ["", "Theory: L2 order p + 1, H1 order p. Tests require the last pair within ±0.15.", ""]
    return lines


def time_order_section(comm) -> list[str]:
    steps = (0.2, 0.1, 0.05, 0.025)
    lines = ["## Time stepping (solution linear in space, so P1 is exact in space)", "",
             "| scheme | dt (yr) | L2 error at t = 1 | order |", "|---|---|---|---|"]
    for scheme in ("bdf1", "bdf2"):
        errors = [solve_manufactured(comm, 2, 1, 4, dt, 1.0, scheme, linear_solution).l2 for dt in steps]
        for i, (dt, error) in enumerate(zip(steps, errors)):
            order = "" if i == 0 else f"{observed_order(list(steps[i - 1:i + 1]), errors[i - 1:i + 1]):.2f}"
            lines.append(f"| {scheme} | {dt} | {error:.3e} | {order} |")
    return lines + [""]


def fisher_kpp_section(comm) -> list[str]:
    lines = ["## Fisher–KPP limit (χ = 0, logistic growth only; D = 1, r = 1)", "",
             "| cell size | dt | fitted speed | 2√(Dr) | relative error |", "|---|---|---|---|---|"]
    for h, dt in ((0.4, 0.2), (0.2, 0.1), (0.1, 0.05)):
        speed = front_speed(comm, cell_size=h, dt=dt)
        lines.append(f"| {h} | {dt} | {speed.fitted:.4f} | {speed.theory:.4f} | {100 * speed.relative_error:.2f} % |")
    return lines + ["", "Front position = ∫m dx; the Bramson term −3/(2λ*) ln t is removed before the fit "
                    "over the second half of t ∈ [0, 40].", ""]


def pial_section(comm, scratch: Path) -> list[str]:
    lines = ["## Pial source: steady follicle factor under a constant flux", "",
             "| mesh size (mm) | L = √(D/k) (mm) | relative L2 error | error at the pia |", "|---|---|---|---|"]
    for h in (0.16, 0.08):
        profile = steady_pial_profile(scratch / f"pial-{h}", overrides=(f"geometry.mesh_size={h}",))
        lines.append(f"| {h} | {profile.gradient_length:.3f} | {100 * profile.relative_l2_error:.3f} % | "
                     f"{100 * profile.surface_error:.3f} % |")
    return lines + [""]


def conservation_section(comm) -> list[str]:
    result = chemotaxis_conservation(comm)
    return ["## Conservation (reactions off, chemotaxis on)", "",
            f"Total microglia {result.initial_total:.6f}; largest relative drift over 40 steps "
            f"{result.relative_drift:.2e}; smallest value {result.minimum:.2e}; centroid moved "
            f"{result.centroid_shift:.3f} mm up the mediator gradient.", ""]


def instability_section(comm) -> list[str]:
    system = Subsystem.from_config(load_config(None, ("follicles.pial_flux=0.0",)))
    chi_c = critical_sensitivity(system)
    terms = system.jacobian_terms()
    lines = ["## Chemotactic instability of the activated plaque (derivation in "
             "`rimmodel/verification/chemotactic_instability.py`)", "",
             f"Default white-matter rates, myelin intact: m* = {terms['m']:.4f}, c* = {terms['c']:.3f}, "
             f"critical sensitivity **χ_c = {chi_c:.4f} mm²/yr** (default χ = "
             f"{load_config().microglia.chemotactic_sensitivity} mm²/yr: homogeneous plaques).", "",
             "| χ / χ_c | initial amplitude | amplitude at 2 yr | measured wavelength (mm) | "
             "fastest-growing wavelength (mm) |", "|---|---|---|---|---|"]
    for factor in (0.8, 2.0):
        run = pattern_run(comm, factor * chi_c)
        predicted = fastest_wavelength(system, factor * chi_c)
        lines.append(f"| {factor} | {run.initial_amplitude:.2e} | {run.final_amplitude:.2e} | "
                     f"{run.wavelength:.3f} | {predicted:.3f} |")
    return lines + ["", "1D domain of 20 mm, h = 0.02 mm, seeded perturbation of the homogeneous state; "
                    "below χ_c the perturbation decays, above it bands grow at the predicted spacing.", ""]


def write_report(path: Path, comm=MPI.COMM_WORLD) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        scratch_dir = Path(comm.bcast(scratch if comm.rank == 0 else None, root=0))
        body = (manufactured_section(comm) + time_order_section(comm) + fisher_kpp_section(comm)
                + pial_section(comm, scratch_dir) + conservation_section(comm) + instability_section(comm))
    header = ["# Verification results", "",
              f"Generated by `rimmodel verify` on {datetime.date.today()} with {comm.size} MPI rank(s). "
              "The same cases run as tests with tolerances in `tests/test_verification.py` and "
              "`tests/test_pial_source.py`; runs on 1, 2 and 3 ranks agree to 1e-8 relative "
              "(`tests/test_parallel.py`).", ""]
    if comm.rank == 0:
        Path(path).write_text("\n".join(header + body))
