"""Benchmark of the reference run: two mesh resolutions × 1 and 2 MPI ranks, plus the demo.

    .venv/bin/python benchmarks/reference_run.py           # full (a few minutes)
    .venv/bin/python benchmarks/reference_run.py --quick   # coarse mesh, 2 simulated years

Each case runs in its own ``mpirun`` process and reports DOFs, steps, Newton iterations,
build time (mesh, spaces, form compilation from the on-disk cache), run time, DOF-steps
per second and peak memory (max over ranks). A warm-up run first fills the JIT cache.
The machine is shared and noisy: absolute times swing several-fold between invocations,
so read the ratios, which are measured within one invocation.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MESH_SIZES = (0.16, 0.08)
RANKS = (1, 2)


def run_case(mesh_size: float, years: float, out: Path) -> None:
    """One case inside mpirun; rank 0 prints a JSON line."""
    import resource

    from rimmodel.config import load_config
    from rimmodel.fem import MPI
    from rimmodel.simulation import Simulation

    started = time.perf_counter()
    config = load_config(None, (f"geometry.mesh_size={mesh_size}", f"time.end={years}", "output.progress=false"))
    simulation = Simulation(config)
    built = time.perf_counter()
    record = simulation.run(out, overwrite=True)
    finished = time.perf_counter()
    peak_kib = simulation.comm.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, op=MPI.MAX)
    accepted = [s for s in record.steps if s["accepted"]]
    if simulation.comm.rank == 0:
        print(json.dumps({
            "mesh_size": mesh_size, "ranks": simulation.comm.size, "dofs": record.provenance["global_dofs"],
            "steps": len(accepted), "rejected": len(record.steps) - len(accepted),
            "newton": sum(s["newton_iterations"] for s in record.steps),
            "build_s": built - started, "run_s": finished - built, "peak_mib": peak_kib / 1024}))


def launch(mesh_size: float, ranks: int, years: float, out: Path) -> dict:
    mpirun = Path(sys.executable).parent / "mpirun"
    command = [str(mpirun), "-n", str(ranks), sys.executable, __file__, "--case", "--mesh-size", str(mesh_size),
               "--years", str(years), "--out", str(out)]
    output = subprocess.run(command, check=True, capture_output=True, text=True,
                            env=os.environ | {"OMP_NUM_THREADS": "1"}).stdout
    return json.loads(next(line for line in output.splitlines() if line.startswith("{")))


def time_demo(out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "rimmodel"), "demo", "--out", str(out)], check=True,
                   capture_output=True)
    return time.perf_counter() - started


def table(results: list[dict]) -> str:
    rows = ["| mesh size (mm) | ranks | DOFs | steps | rejected | Newton its | build (s) | run (s) | "
            "DOF-steps/s | peak memory (MiB) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        rate = r["dofs"] * r["steps"] / r["run_s"]
        rows.append(f"| {r['mesh_size']} | {r['ranks']} | {r['dofs']} | {r['steps']} | {r['rejected']} | "
                    f"{r['newton']} | {r['build_s']:.2f} | {r['run_s']:.1f} | {rate:.3g} | {r['peak_mib']:.0f} |")
    return "\n".join(rows)


def ratios(results: list[dict], mesh_sizes) -> list[str]:
    by_case = {(r["mesh_size"], r["ranks"]): r["run_s"] for r in results}
    lines = [f"run time, 2 ranks / 1 rank, mesh {h}: {by_case[(h, 2)] / by_case[(h, 1)]:.2f}" for h in mesh_sizes]
    if len(mesh_sizes) == 2:
        coarse, fine = mesh_sizes
        lines.append(f"run time, mesh {fine} / mesh {coarse}, 1 rank: {by_case[(fine, 1)] / by_case[(coarse, 1)]:.2f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mesh-size", type=float, default=0.16)
    parser.add_argument("--years", type=float, default=10.0)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--quick", action="store_true", help="coarse mesh only, 2 simulated years, no demo")
    args = parser.parse_args()
    if args.case:
        return run_case(args.mesh_size, args.years, args.out)
    mesh_sizes, years = (MESH_SIZES[:1], 2.0) if args.quick else (MESH_SIZES, 10.0)
    with tempfile.TemporaryDirectory() as scratch:
        launch(MESH_SIZES[0], 1, 0.2, Path(scratch) / "warm-up")
        results = [launch(h, n, years, Path(scratch) / f"h{h}-n{n}") for h in mesh_sizes for n in RANKS]
        demo = None if args.quick else time_demo(Path(scratch) / "demo")
    print(f"Reference run, {years:g} simulated years (absolute times vary several-fold on this shared machine; "
          "compare the ratios):\n")
    print(table(results) + "\n")
    print("\n".join(ratios(results, mesh_sizes)))
    if demo is not None:
        print(f"rimmodel demo (two 10-year runs + figures), wall time: {demo:.1f} s (target: under 60 s)")


if __name__ == "__main__":
    main()
