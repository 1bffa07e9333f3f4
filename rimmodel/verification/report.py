"""Run every verification case and write docs/verification.md with figures (``rimmodel verify``)."""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rimmodel.config import load_config
from rimmodel.fem import MPI
from rimmodel.io.figures import report_workspace, save_panels
from rimmodel.progress import run_stages
from rimmodel.verification.balo_bands import (DEMYELINATED_BELOW, SPARED_PROMINENCE, DebrisAttractantSystem,
                                              balo_config, band_run, spared_bands)
from rimmodel.verification.chemotactic_instability import (Subsystem, critical_sensitivity,
                                                           fastest_wavelength, pattern_run)
from rimmodel.verification.conservation import chemotaxis_conservation
from rimmodel.verification.fisher_kpp import front_speed
from rimmodel.verification.manufactured import (linear_solution, observed_order, smooth_solution,
                                                solve_manufactured)
from rimmodel.verification.pial_source import steady_pial_profile
from rimmodel.verification.rings import ring_run


@dataclass(frozen=True)
class Suite:
    """How far each case is refined: ``FULL`` for docs/verification.md, ``QUICK`` for CI."""

    name: str
    mms_levels: dict            # (dim, degree) -> cells per side
    time_steps: tuple           # yr
    fisher_kpp: tuple           # (cell size, dt) pairs
    pial_sizes: tuple           # mm
    ring_disc: tuple            # (radius, cell size) in mm
    balo_bands: tuple           # (cell size in mm, dt in yr) of the radial Baló case


FULL = Suite("full", {(2, 1): (8, 16, 32), (2, 2): (8, 16, 32), (3, 1): (4, 8, 16), (3, 2): (2, 4, 8)},
             (0.2, 0.1, 0.05, 0.025), ((0.4, 0.2), (0.2, 0.1), (0.1, 0.05)), (0.16, 0.08), (12.0, 0.05), (0.01, 0.01))
QUICK = Suite("quick", {(2, 1): (8, 16), (2, 2): (8, 16), (3, 1): (4, 8), (3, 2): (2, 4)},
              (0.2, 0.1, 0.05), ((0.4, 0.2), (0.2, 0.1)), (0.16,), (8.0, 0.1), (0.02, 0.04))
# (chi / chi_c, years): below, the disturbance only has to decay; above, to grow ~10^5-fold
RING_CASES = ((0.8, 3.0), (2.0, 6.0))
# chi / chi_c of the Baló case below and above threshold, the ball's radius (mm) and the years simulated
BALO_FACTORS, BALO_RADIUS, BALO_YEARS = (0.5, 4.0), 6.0, 20.0


def _stationary(x, t, dim, fields):
    return smooth_solution(x, 0.0 * t, dim, fields)


def _order_cells(values: list[float], sizes: list[float], i: int) -> str:
    return "" if i == 0 else f"{observed_order(sizes[i - 1:i + 1], values[i - 1:i + 1]):.2f}"


def manufactured_section(comm, suite: Suite, figures: Path) -> list[str]:
    lines = ["## Manufactured solutions (all fields, chemotaxis, pial flux, BTK terms)", "",
             "| dim | degree | cells/side | DOFs | L2 error | L2 order | H1 error | H1 order |",
             "|---|---|---|---|---|---|---|---|"]
    curves = {}
    for (dim, degree), levels in suite.mms_levels.items():
        errors = [solve_manufactured(comm, dim, degree, n, 1e6, 1e6, "bdf1", _stationary) for n in levels]
        sizes, l2, h1 = [1 / n for n in levels], [e.l2 for e in errors], [e.h1 for e in errors]
        curves[(dim, degree)] = (sizes, l2, h1)
        for i, (n, error) in enumerate(zip(levels, errors)):
            lines.append(f"| {dim} | P{degree} | {n} | {error.dofs} | {error.l2:.3e} | {_order_cells(l2, sizes, i)} | "
                         f"{error.h1:.3e} | {_order_cells(h1, sizes, i)} |")

    def draw(norm: int, label: str):
        def panel(ax):
            for (dim, degree), curve in curves.items():
                ax.loglog(curve[0], curve[norm], "o-", label=f"{dim}D P{degree}")
            ax.set(xlabel="cell size h (unit square/cube)", ylabel=f"{label} error", title=f"{label} convergence")
            ax.legend(fontsize=8)
        return panel

    save_panels(figures / "verification_convergence.png", (draw(1, "L2"), draw(2, "H1")))
    return lines + ["", "Theory: L2 order p + 1, H1 order p. Tests require the last pair within ±0.15.", "",
                    "![convergence](figures/verification_convergence.png)", ""]


def time_order_section(comm, suite: Suite, figures: Path) -> list[str]:
    steps = list(suite.time_steps)
    lines = ["## Time stepping (solution linear in space, so P1 is exact in space)", "",
             "| scheme | dt (yr) | L2 error at t = 1 | order |", "|---|---|---|---|"]
    curves = {}
    for scheme in ("bdf1", "bdf2"):
        errors = [solve_manufactured(comm, 2, 1, 4, dt, 1.0, scheme, linear_solution).l2 for dt in steps]
        curves[scheme] = errors
        lines += [f"| {scheme} | {dt} | {error:.3e} | {_order_cells(errors, steps, i)} |"
                  for i, (dt, error) in enumerate(zip(steps, errors))]

    def panel(ax):
        for scheme, errors in curves.items():
            ax.loglog(steps, errors, "o-", label=scheme.upper())
        ax.set(xlabel="dt (yr)", ylabel="L2 error at t = 1", title="time-stepping order")
        ax.legend()

    save_panels(figures / "verification_time_order.png", (panel,))
    return lines + ["", "![time order](figures/verification_time_order.png)", ""]


def fisher_kpp_section(comm, suite: Suite, figures: Path) -> list[str]:
    lines = ["## Fisher–KPP limit (χ = 0, logistic growth only; D = 1, r = 1)", "",
             "| cell size | dt | fitted speed | 2√(Dr) | relative error |", "|---|---|---|---|---|"]
    runs = [front_speed(comm, cell_size=h, dt=dt) for h, dt in suite.fisher_kpp]
    lines += [f"| {run.cell_size} | {run.dt} | {run.fitted:.4f} | {run.theory:.4f} | "
              f"{100 * run.relative_error:.2f} % |" for run in runs]

    def position(ax):
        for run in runs:
            ax.plot(run.times, run.positions, label=f"h = {run.cell_size}")
        ax.set(xlabel="time", ylabel="front position ∫m dx", title="front position")
        ax.legend()

    def speed(ax):
        for run in runs:
            ax.plot(run.times[1:], np.diff(run.positions) / np.diff(run.times), label=f"h = {run.cell_size}")
        ax.axhline(runs[0].theory, color="k", ls="--", label="2√(Dr)")
        ax.set(xlabel="time", ylabel="dx/dt", title="front speed (Bramson-delayed approach)", ylim=(0, 2.5))
        ax.legend()

    save_panels(figures / "verification_fisher_kpp.png", (position, speed))
    return lines + ["", "Front position = ∫m dx; the Bramson term −3/(2λ*) ln t is removed before the fit "
                    "over the second half of t ∈ [0, 40].", "", "![front](figures/verification_fisher_kpp.png)", ""]


def pial_section(comm, suite: Suite, scratch: Path) -> list[str]:
    lines = ["## Pial source: steady follicle factor under a constant flux", "",
             "| mesh size (mm) | L = √(D/k) (mm) | relative L2 error | error at the pia |", "|---|---|---|---|"]
    for h in suite.pial_sizes:
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


def instability_section(comm, suite: Suite, figures: Path) -> list[str]:
    system = Subsystem.from_config(load_config(None, ("follicles.pial_flux=0.0",)))
    chi_c = critical_sensitivity(system)
    terms = system.jacobian_terms()
    lines = ["## Chemotactic instability of the activated plaque (derivation in "
             "`rimmodel/verification/chemotactic_instability.py`)", "",
             f"Default white-matter rates, myelin intact: m* = {terms['m']:.4f}, c* = {terms['c']:.3f}, "
             f"critical sensitivity **χ_c = {chi_c:.4f} mm²/yr** (default χ = "
             f"{load_config().microglia.chemotactic_sensitivity} mm²/yr: homogeneous plaques).", "",
             "### Bands in 1D", "",
             "| χ / χ_c | initial amplitude | amplitude at 2 yr | measured wavelength (mm) | "
             "fastest-growing wavelength (mm) |", "|---|---|---|---|---|"]
    for factor in (0.8, 2.0):
        run = pattern_run(comm, factor * chi_c)
        lines.append(f"| {factor} | {run.initial_amplitude:.2e} | {run.final_amplitude:.2e} | "
                     f"{run.wavelength:.3f} | {fastest_wavelength(system, factor * chi_c):.3f} |")
    lines += ["", "1D domain of 20 mm, h = 0.02 mm, seeded perturbation of the homogeneous state; "
              "below χ_c the perturbation decays, above it bands grow at the predicted spacing.", ""]
    return lines + ring_lines(comm, suite, system, chi_c, figures)


def ring_lines(comm, suite: Suite, system: Subsystem, chi_c: float, figures: Path) -> list[str]:
    radius, cell_size = suite.ring_disc
    runs = {factor: ring_run(comm, factor * chi_c, radius, cell_size, end=years) for factor, years in RING_CASES}
    lines = ["### Concentric rings in 2D", "",
             f"A disc of activated plaque (radius {radius:g} mm, cell size {cell_size:g} mm, myelin intact), "
             "disturbed by 10⁻⁶ × a flat-spectrum sum of its radial modes J0(k_n r) with random signs.", "",
             "| χ / χ_c | years | initial amplitude | final amplitude | rings | median ring spacing (mm) | "
             "spectral wavelength (mm) | fastest-growing wavelength (mm) |", "|---|---|---|---|---|---|---|---|"]
    for factor, run in runs.items():
        predicted = fastest_wavelength(system, factor * chi_c)
        rings = len(run.ring_radii) if factor > 1 else "none (decayed)"
        spacing = f"{run.ring_spacing:.3f} ({100 * (run.ring_spacing / predicted - 1):+.1f} %)" if factor > 1 else "–"
        lines.append(f"| {factor} | {run.years:g} | {run.initial_amplitude:.2e} | "
                     f"{run.final_amplitude:.2e} | {rings} | {spacing} | {run.wavelength:.3f} | {predicted:.3f} |")
    _ring_figure(figures / "verification_rings.png", runs)
    return lines + ["", "Below χ_c the plaque stays homogeneous; above it microglia gather into concentric rings "
                    "whose spacing is the fastest-growing wavelength of the linear analysis (rings: maxima of "
                    "√r (m − m*) standing out by a quarter of its range; spectral: the J0 mode carrying most "
                    "of the profile).", "", "![rings](figures/verification_rings.png)", "",
                    ]


def balo_section(comm, suite: Suite, figures: Path) -> list[str]:
    """Debris-driven attractant (Khonsari–Calvez limit): bands of spared myelin above chi_c, none below."""
    cell_size, dt = suite.balo_bands
    system = DebrisAttractantSystem.from_config(balo_config(0.0, BALO_RADIUS, cell_size))
    chi_c = system.critical_sensitivity()
    runs = {factor: band_run(comm, factor * chi_c, BALO_RADIUS, cell_size, dt, BALO_YEARS)
            for factor in BALO_FACTORS}
    lines = ["## Baló-type concentric bands (debris-driven attractant; derivation in "
             "`rimmodel/verification/balo_bands.py`)", "",
             f"Khonsari–Calvez limit of the model (p_d = {system.debris_release:g} /yr, p_c = 0, r_m = 0, "
             f"r_0 = {system.logistic_rate:g} /yr, σ_0 = 0), a ball of radius {BALO_RADIUS:g} mm (1D in r, "
             f"h = {cell_size:g} mm, dt = {dt:g} yr) seeded with the plaque m̄ = {system.plaque_density:g} "
             f"for r < 0.5 mm. Critical sensitivity of the plaque on intact myelin **χ_c = {chi_c:.3f} mm²/yr**, "
             f"first unstable band spacing {system.band_spacing():.2f} mm.", "",
             *_balo_derivation(system),
             f"A band of spared myelin: an interior maximum of y behind the front (the outermost r with "
             f"y < {DEMYELINATED_BELOW:g}) standing ≥ {SPARED_PROMINENCE:g} above the myelin on both sides. "
             "Baló-type concentric bands are counted as reproduced with ≥ 2 such bands.", "",
             "| χ / χ_c | front stalled at (mm) for (yr) | front at the end (mm) | most bands | "
             "band radii then (mm) | bands at the end | years with a band |", "|---|---|---|---|---|---|---|"]
    for factor, run in runs.items():
        stall_radius, stall_years = _longest_stall(run)
        i = run.most_bands_sample
        radii = _band_radii(run, i)
        stall = f"{stall_radius:.2f} for {stall_years:.1f}" if stall_years > 0 else "never"
        lines.append(f"| {factor:g} | {stall} | {run.front_radius[-1]:.2f} | "
                     f"{run.most_bands}{f' (t = {run.times[i]:.1f} yr)' if run.most_bands else ''} | "
                     f"{radii or '–'} | {run.final_bands} | "
                     f"{run.banded_years:.1f} |")
    above = runs[max(runs)]
    verdict = ("reproduced" if above.most_bands >= 2 else
               f"not reproduced: at most {above.most_bands} band of spared myelin above χ_c")
    _balo_figure(figures / "verification_balo.png", runs)
    return lines + ["", f"Baló-type concentric bands (≥ 2): **{verdict}**; below χ_c: "
                    f"{runs[min(runs)].most_bands} bands at any time.", "",
                    "![Baló bands](figures/verification_balo.png)", ""]


def _balo_derivation(system: DebrisAttractantSystem) -> list[str]:
    """Why the Khonsari–Calvez limit, and the linear analysis behind chi_c (mirrors balo_bands.py)."""
    return [
        "Why this limit: with the model's own signal-driven activation the microglia need the mediator, and "
        "with p_c > 0 destroying myelin removes a mediator source; in the Khonsari–Calvez limit the plaque "
        "persists behind the front and the only feedback between microglia and attractant runs through "
        "destroyed myelin (more microglia, more destroyed myelin, more attractant, more microglia pulled in). "
        "The existing χ_c of the activated plaque does not apply (there c depends on m directly); the relevant "
        "homogeneous state is the plaque m̄ = 1 − δ_m/r_0 on still intact myelin just behind the front "
        "(y = 1, c = 0), frozen (myelin falls on the slow scale 1/(k_ym m̄) = "
        f"{1 / (system.stripping_rate * system.plaque_density):.2f} yr). Perturbing by exp(ikr + st), q = k², "
        "mediator quasi-steady (it decays in hours):", "",
        "```", "  s δm = (g_m − D_m q) δm + χ φ q δc,     φ = m̄(1 − m̄),  g_m = −r_0 m̄",
        "  0    = −(k_c + D_c q) δc − p_d δy", "  s δy = −k_ym δm − k_ym m̄ δy", "```", "",
        "A real eigenvalue crosses zero where χ φ q p_d / (k_c + D_c q) = m̄ (D_m q − g_m); the smallest such χ, "
        "at q* = √(−g_m k_c / (D_m D_c)), is", "",
        "```", "  χ_c = [√(−g_m D_c) + √(D_m k_c)]² / ((1 − m̄) p_d)", "```", "",
        "The full 3×3 system (mediator dynamic) turns unstable at the same χ (`tests/test_balo_bands.py`: "
        "largest growth rate < 0 at 0.98 χ_c, > 0 at 1.02 χ_c).", ""]


def _longest_stall(run) -> tuple[float, float]:
    """The radius where the front stood longest (moving < 0.05 mm per sample) and for how long."""
    steps = np.diff(run.front_radius)
    interval = run.times[1] - run.times[0]
    best, best_length, length = 0, 0, 0
    inside = (run.front_radius > 0) & (run.front_radius < run.radius[-1])  # not at the seed or the wall
    for i, step in enumerate(steps):
        length = length + 1 if (step < 0.05 and inside[i]) else 0
        if length > best_length:
            best, best_length = i, length
    return float(run.front_radius[best]), best_length * interval


def _band_radii(run, sample: int) -> str:
    radii = spared_bands(run.radius, run.myelin[sample], run.front_radius[sample])
    return ", ".join(f"{r:.2f}" for r in radii)


def _balo_figure(path: Path, runs: dict) -> None:
    above = runs[max(runs)]
    shown = (above.most_bands_sample, len(above.times) - 1)

    def profiles(ax):
        for factor, run in runs.items():
            for k, i in enumerate(shown):
                ax.plot(run.radius, run.myelin[i], ls="-" if k else "--",
                        color="C3" if factor > 1 else "C0", label=f"χ = {factor:g} χ_c, t = {run.times[i]:.1f} yr")
        ax.set(xlabel="radius r (mm)", ylabel="intact myelin y", title="myelin along the radius", ylim=(-0.02, 1.05))
        ax.legend(fontsize=7)

    def fronts(ax):
        for factor, run in runs.items():
            ax.plot(run.times, run.front_radius, color="C3" if factor > 1 else "C0", label=f"χ = {factor:g} χ_c")
            ax.plot(run.times, 0.1 * run.band_count, ls=":", color="C3" if factor > 1 else "C0")
        ax.set(xlabel="time (yr)", ylabel="front radius (mm)", title="front (dotted: 0.1 × bands behind it)")
        ax.legend(fontsize=8)

    save_panels(path, (profiles, fronts))


def _ring_figure(path: Path, runs: dict) -> None:
    above = runs[max(runs)]

    def snapshot(ax):
        points, microglia = above.snapshot
        image = ax.tricontourf(points[:, 0], points[:, 1], microglia, 40, cmap="magma")
        ax.figure.colorbar(image, ax=ax, label="activated microglia m")
        ax.set(aspect="equal", xlabel="x (mm)", ylabel="y (mm)", title=f"χ = {max(runs)} χ_c, end of run")

    def profiles(ax):
        for factor, run in runs.items():
            ax.plot(run.radial_position, run.microglia_profile, label=f"χ = {factor} χ_c")
        for ring in above.ring_radii:
            ax.axvline(ring, color="grey", lw=0.6, ls=":")
        ax.set(xlabel="radius r (mm)", ylabel="angular mean of m", title="radial profiles (dotted: rings)")
        ax.legend()

    save_panels(path, (snapshot, profiles))


def write_report(path: Path, comm=MPI.COMM_WORLD, suite: Suite = FULL) -> None:
    path = Path(path)
    started = time.perf_counter()
    with report_workspace(path, comm) as (figures, scratch_dir):
        sections = run_stages("verify", [
            ("manufactured solutions", lambda: manufactured_section(comm, suite, figures)),
            ("time-stepping order", lambda: time_order_section(comm, suite, figures)),
            ("Fisher-KPP front speed", lambda: fisher_kpp_section(comm, suite, figures)),
            ("pial-source profile", lambda: pial_section(comm, suite, scratch_dir)),
            ("conservation under chemotaxis", lambda: conservation_section(comm)),
            ("chemotactic instability and rings", lambda: instability_section(comm, suite, figures)),
            ("Baló-type bands (debris-driven attractant)", lambda: balo_section(comm, suite, figures))], comm)
        body = [line for section in sections for line in section]
    minutes = (time.perf_counter() - started) / 60
    header = ["# Verification results", "",
              f"Generated by `rimmodel verify{' --quick' if suite is QUICK else ''}` on {datetime.date.today()} "
              f"with {comm.size} MPI rank(s) in {minutes:.1f} min. The same cases run as tests with tolerances "
              "in `tests/test_verification.py`, `tests/test_rings.py`, `tests/test_balo_bands.py` and "
              "`tests/test_pial_source.py`; runs on "
              "1, 2 and 3 ranks agree to 1e-8 relative (`tests/test_parallel.py`).", ""]
    if comm.rank == 0:
        path.write_text("\n".join(header + body))
