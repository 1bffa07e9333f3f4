"""Strong and weak scaling of one 3D run (the cortical slab): per-phase timings, iterations,
partition and memory, written as JSON for benchmarks/weak_scaling_projection.py.

    B=benchmarks; P=.venv/bin/python
    $P $B/scaling.py --ranks 1 2 --mesh-size 0.1 --repeats 3 --json strong.json     # strong, 1.34M cells
    $P $B/scaling.py --ranks 1 --grow 1 2 4 --mesh-size 0.2 --json size.json         # size at fixed ranks
    $P $B/scaling.py --ranks 1 2 4 8 --weak --mesh-size 0.2 --length 1 --json weak.json
    $P $B/scaling.py --ranks 2 4 8 16 --weak --mesh-size 0.2 --length 1 --partition-only --json partition.json
    $P $B/weak_scaling_projection.py --strong strong.json --size size.json --weak weak.json \\
        --partition partition.json                                                    # docs/scaling.md
    sbatch --ntasks=1024 hpc/weak_scaling.sbatch                                      # on a cluster

Each case is ``mpirun -n R`` (``srun`` with RIMMODEL_USE_SRUN=1) of benchmarks/scaling_case.py:
a few fixed steps of 0.1 yr, no output files. Strong: one mesh at every rank count. ``--weak``:
the slab's pial area grows with the rank count, so cells per rank stay constant. ``--grow``: area
factors at one rank count (iterations against problem size). Repetitions alternate the rank
counts (1 2 1 2 ...) so that the machine's drift hits all of them; tables show medians.
Runs with more ranks than cores are for counts (iterations, ghosts, messages), not times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from scaling_case import REDUCTIONS, machine_busy_seconds  # noqa: E402

CASE = Path(__file__).parent / "scaling_case.py"
# stored phase name (rimmodel.solver.phases) -> column; with LU, PC setup is the factorisation
PHASES = {"residual_assembly": "F assembly", "jacobian_assembly": "J assembly", "factorisation": "PC setup",
          "triangular_solves": "KSP solve", "observables": "observables", "other": "other"}
QUIET_CORES = 0.25  # other processes' load below which the machine counts as quiet


def plan(args) -> list[tuple[int, float]]:
    """(ranks, area factor) of each distinct case."""
    if args.grow:
        return [(args.ranks[0], factor) for factor in args.grow]
    return [(ranks, ranks / args.ranks[0] if args.weak else 1.0) for ranks in args.ranks]


def launch(ranks: int, area_factor: float, args, out: Path, mesh_size: float | None = None,
           steps: int | None = None) -> dict:
    command = [str(Path(sys.executable).parent / "mpirun"), "-n", str(ranks), sys.executable, str(CASE),
               "--mesh-size", str(mesh_size or args.mesh_size), "--length", str(args.length),
               "--area-factor", str(area_factor), "--steps", str(steps or args.steps), "--preset", args.preset,
               "--out", str(out)] + (["--partition-only"] if args.partition_only else []) \
        + [f"--set={item}" for item in args.set]
    if os.environ.get("RIMMODEL_USE_SRUN"):
        command = ["srun", "-n", str(ranks), *command[3:]]
    output = subprocess.run(command, check=True, capture_output=True, text=True,
                            env=os.environ | {"OMP_NUM_THREADS": "1"}).stdout
    return json.loads(next(line for line in output.splitlines() if line.startswith("{")))


def wait_for_quiet(limit_s: float) -> float:
    """Wait (up to ``limit_s``) until other processes use under QUIET_CORES cores; returns their load."""
    deadline = time.monotonic() + limit_s
    while True:
        before = machine_busy_seconds()
        time.sleep(2.0)
        load = (machine_busy_seconds() - before) / 2.0
        if load < QUIET_CORES or time.monotonic() >= deadline:
            return load
        time.sleep(10.0)


def quiet(runs: list[dict]) -> list[dict]:
    """The runs during which other processes used under QUIET_CORES cores (all, if none did)."""
    return [r for r in runs if r["others_cores"] < QUIET_CORES] or runs


def summarise(cases: list[dict], quiet_only: bool = False) -> list[dict]:
    """Medians over the repetitions of each (ranks, area factor), or over its quiet ones; counts
    from the first repetition (the runs are deterministic, so they agree)."""
    groups: dict[tuple, list[dict]] = {}
    for case in cases:
        groups.setdefault((case["ranks"], case["area_factor"]), []).append(case)
    summary = []
    for runs in groups.values():
        first = runs[0]
        if quiet_only and "timing" in first:
            runs = quiet(runs)
        entry = {k: v for k, v in first.items() if k not in ("timing", "step_wall_s", "cpu_s_per_rank")}
        if "timing" in first:
            entry |= {"repeats": len(runs),
                      "totals_s": [r["timing"]["total"] for r in runs],
                      "timing": {p: statistics.median(r["timing"][p] for r in runs) for p in [*PHASES, "total"]},
                      "others_cores": statistics.median(r["others_cores"] for r in runs),
                      "cpu_s_total": statistics.median(sum(r["cpu_s_per_rank"]) for r in runs),
                      "peak_mib_per_rank": [max(v) for v in zip(*(r["peak_mib_per_rank"] for r in runs))]}
        summary.append(entry)
    return summary


def efficiency(entry: dict, base: dict, mode: str) -> tuple[float, float] | None:
    """Wall-time efficiency, and CPU-seconds efficiency: the base's CPU seconds (all ranks) over
    this case's. On a shared machine a rank that loses its core stretches the wall time but not
    its CPU time, while MPI's busy-polling keeps waiting for a descheduled partner in it."""
    if mode == "grow":
        return None
    weak = mode == "weak"
    wall = base["timing"]["total"] * (1 if weak else base["ranks"] / entry["ranks"]) / entry["timing"]["total"]
    cpu = base["cpu_s_total"] / entry["cpu_s_total"] * (entry["ranks"] / base["ranks"] if weak else 1)
    return wall, cpu


def report_times(summary: list[dict], mode: str) -> None:
    print(f"{'ranks':>5} {'cells':>9} {'DOFs':>9} {'total s':>8} " + " ".join(f"{c:>10}" for c in PHASES.values())
          + f" {'efficiency':>10} {'CPU eff':>7} {'MiB/rank':>8} {'KiB/DOF':>7} {'others':>6}")
    for entry in summary:
        t, eff = entry["timing"], efficiency(entry, summary[0], mode)
        peaks = entry["peak_mib_per_rank"]
        print(f"{entry['ranks']:>5} {entry['cells']:>9} {entry['dofs']:>9} {t['total']:>8.1f} "
              + " ".join(f"{t[p]:>10.2f}" for p in PHASES)
              + f" {'-' if eff is None else f'{eff[0]:.0%}':>10} {'-' if eff is None else f'{eff[1]:.0%}':>7}"
              f" {max(peaks):>8.0f} "
              f"{sum(peaks) * 1024 / entry['dofs']:>7.2f} {entry['others_cores']:>6.2f}")


def report_runs(cases: list[dict]) -> None:
    print("every run, in order: ranks, total s, cores used by other processes, CPU s (sum over ranks)")
    print("  " + "   ".join(f"{c['ranks']}: {c['timing']['total']:.1f} s, {c['others_cores']:.2f}, "
                            f"{sum(c['cpu_s_per_rank']):.0f}" for c in cases))


def report_partition(summary: list[dict]) -> None:
    print(f"{'ranks':>5} {'DOFs':>9} {'owned/rank':>10} {'max/mean':>8} {'ghosts/rank':>11} {'ghosts/owned':>12} "
          f"{'neighbours':>10}")
    for e in summary:
        owned, ghosts, neighbours = (e["partition"][k] for k in ("owned_dofs", "ghost_dofs", "neighbours"))
        print(f"{e['ranks']:>5} {e['dofs']:>9} {max(owned):>10} {max(owned) * len(owned) / sum(owned):>8.3f} "
              f"{max(ghosts):>11} {max(g / o for g, o in zip(ghosts, owned)):>12.3f} {max(neighbours):>10}")


def report_counts(summary: list[dict]) -> None:
    print(f"{'ranks':>5} {'DOFs':>9} {'steps':>5} {'Newton':>6} {'Krylov':>6} {'K/N':>5} {'J builds':>8} "
          f"{'owned/rank':>10} {'ghosts/rank':>11} {'neighbours':>10} {'sends/K':>7} {'KiB/K':>6} {'allred/K':>8}")
    for e in summary:
        part, its = e["partition"], max(e.get("krylov_iterations", 0), 1)
        events = e.get("events", {})
        ksp, per_rank = events.get("KSPSolve", {}), 2 * e["ranks"] * its  # PETSc logs sends and receives
        reductions = sum(events.get(name, {}).get("count", 0) for name in REDUCTIONS) if e["ranks"] > 1 else 0
        print(f"{e['ranks']:>5} {e['dofs']:>9} {e.get('steps', '-'):>5} {e.get('newton_iterations', '-'):>6} "
              f"{e.get('krylov_iterations', '-'):>6} {its / max(e.get('newton_iterations', 1), 1):>5.1f} "
              f"{e.get('jacobian_builds', '-'):>8} {max(part['owned_dofs']):>10} {max(part['ghost_dofs']):>11} "
              f"{max(part['neighbours']):>10} {ksp.get('messages', 0) / per_rank:>7.1f} "
              f"{ksp.get('bytes', 0) / per_rank / 1024:>6.1f} {reductions / its:>8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--mesh-size", type=float, default=0.1, help="mm (0.1: 1.34M cells for the default slab)")
    parser.add_argument("--length", type=float, default=4.0, help="slab length along z at area factor 1, mm")
    parser.add_argument("--steps", type=int, default=3, help="time steps of 0.1 yr per case")
    parser.add_argument("--preset", default="iterative_3d", help="solver.preset (rimmodel/config/solver_presets.py)")
    parser.add_argument("--repeats", type=int, default=1, help="alternating repetitions of every case")
    parser.add_argument("--weak", action="store_true", help="grow the pial area with the rank count")
    parser.add_argument("--grow", type=float, nargs="+", help="area factors at the first rank count")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="config override on top of the preset (repeatable), e.g. to compare PETSc options: "
                        "--set solver.petsc_options.pc_type=bjacobi")
    parser.add_argument("--partition-only", action="store_true", help="mesh and spaces only: ghosts, neighbours")
    parser.add_argument("--quiet-wait", type=float, default=0.0,
                        help="before each case wait up to this many s for other processes to go quiet")
    parser.add_argument("--json", type=Path, help="write every case and the medians here")
    parser.add_argument("--quiet-only", action="store_true",
                        help="medians over the runs during which the machine was otherwise quiet (if any)")
    parser.add_argument("--compare", type=Path, nargs="+", help="one line per earlier --json file, run nothing")
    parser.add_argument("--report", type=Path, help="print the tables of an earlier --json file, run nothing")
    args = parser.parse_args()
    if args.compare:
        return print_comparison(args.compare)
    if args.report:
        data = json.loads(args.report.read_text())
        return print_report(data["cases"], data["mode"], data["argv"], args.quiet_only)
    mode = "grow" if args.grow else "weak" if args.weak else "strong"
    cases = []
    with tempfile.TemporaryDirectory() as scratch:
        if not args.partition_only:
            launch(args.ranks[0], 1.0, args, Path(scratch) / "warm-up", mesh_size=0.25, steps=1)  # JIT once
        for repeat in range(args.repeats):
            for ranks, area in plan(args):
                waited = wait_for_quiet(args.quiet_wait) if args.quiet_wait else None
                cases.append(launch(ranks, area, args, Path(scratch) / f"r{ranks}") | {"repeat": repeat,
                                                                                       "load_before": waited})
                print(json.dumps({k: v for k, v in cases[-1].items() if k != "events"}), flush=True)
    summary = summarise(cases, args.quiet_only)
    if args.json:
        args.json.write_text(json.dumps({"argv": sys.argv, "mode": mode, "preset": args.preset, "overrides": args.set,
                                         "cases": cases, "summary": summary}, indent=1))
    print_report(cases, mode, sys.argv, args.quiet_only)


def print_comparison(paths: list[Path]) -> None:
    """One line per earlier --json run (same cases, different options): times, efficiency, iterations."""
    print(f"{'run':<22} {'total s':>13} {'efficiency':>10} {'Newton':>6} {'Krylov':>11} {'J builds':>8} "
          f"{'MiB/rank':>13}")
    for path in paths:
        data = json.loads(path.read_text())
        summary = summarise(data["cases"])
        eff = efficiency(summary[-1], summary[0], data["mode"]) if len(summary) > 1 else None
        totals = " / ".join(f"{e['timing']['total']:.1f}" for e in summary)
        krylov = " / ".join(str(e["krylov_iterations"]) for e in summary)
        memory = " / ".join(f"{max(e['peak_mib_per_rank']):.0f}" for e in summary)
        print(f"{path.stem:<22} {totals:>13} {'-' if eff is None else f'{eff[0]:.0%}':>10} "
              f"{summary[0]['newton_iterations']:>6} {krylov:>11} {summary[0]['jacobian_builds']:>8} {memory:>13}")


def print_report(cases: list[dict], mode: str, argv: list[str], quiet_only: bool) -> None:
    summary = summarise(cases, quiet_only)
    first = summary[0]
    which = f"the quiet ones (others < {QUIET_CORES} cores) of " if quiet_only else ""
    preset = " ".join([first["preset"], *first.get("overrides", [])])
    print(f"\n{mode} scaling of the 3D cortical slab, mesh size {first['mesh_size']} mm, preset {preset}; medians "
          f"of {which}{len(cases) // len(summary)} alternating repetition(s); 'others': cores used by other "
          f"processes during the run\n  {' '.join(argv)}")
    if "timing" not in first:
        return report_partition(summary)
    report_times(summary, mode)
    report_runs(cases)
    print()
    report_counts(summary)


if __name__ == "__main__":
    main()
