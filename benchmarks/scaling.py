"""Strong and weak scaling of one 3D run (the cortical slab), with per-phase timings.

    .venv/bin/python benchmarks/scaling.py --ranks 1 2 --mesh-size 0.1            # strong, this machine
    .venv/bin/python benchmarks/scaling.py --ranks 1 2 4 8 --mesh-size 0.1 --weak  # weak (cells/rank fixed)
    sbatch hpc/scaling.sbatch                                                       # on a cluster

Each case is ``mpirun -n R`` of a few fixed time steps (no field output, no checkpoints) and
prints cells, DOFs, wall time per phase (max over ranks), parallel efficiency against the
smallest rank count, and peak memory per rank and per DOF. In weak mode the slab's length grows
with the rank count so that the cells per rank stay constant.
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

PHASES = ("residual_assembly", "jacobian_assembly", "factorisation", "triangular_solves", "other")


def run_case(mesh_size: float, length: float, steps: int, out: Path) -> None:
    import resource

    from rimmodel.config import load_config
    from rimmodel.fem import MPI
    from rimmodel.simulation import Simulation

    dt = 0.1
    config = load_config(None, ("geometry.kind=cortical_slab", f"geometry.mesh_size={mesh_size}",
                                f"geometry.length={length}", f"time.end={steps * dt}", f"time.dt={dt}",
                                f"time.output_interval={steps * dt}", "output.fields=false",
                                "output.checkpoints=false", "output.progress=false"))
    started = time.perf_counter()
    simulation = Simulation(config)
    built = time.perf_counter() - started
    record = simulation.run(out, overwrite=True)
    peak_mib = simulation.comm.allreduce(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, op=MPI.MAX) / 1024
    if simulation.comm.rank == 0:
        print(json.dumps({"ranks": simulation.comm.size, "cells": record.provenance["cells"],
                          "dofs": record.provenance["global_dofs"], "build_s": built,
                          "timing": record.timing, "peak_mib_per_rank": peak_mib}))


def launch(ranks: int, mesh_size: float, length: float, steps: int, out: Path) -> dict:
    command = [str(Path(sys.executable).parent / "mpirun"), "-n", str(ranks), sys.executable, __file__, "--case",
               "--mesh-size", str(mesh_size), "--length", str(length), "--steps", str(steps), "--out", str(out)]
    if os.environ.get("RIMMODEL_USE_SRUN"):
        command = ["srun", "-n", str(ranks), *command[3:]]
    output = subprocess.run(command, check=True, capture_output=True, text=True,
                            env=os.environ | {"OMP_NUM_THREADS": "1"}).stdout
    return json.loads(next(line for line in output.splitlines() if line.startswith("{")))


def report(cases: list[dict], weak: bool) -> None:
    base = cases[0]
    print(f"{'ranks':>5} {'cells':>9} {'DOFs':>9} {'total s':>8} " + " ".join(f"{p[:12]:>12}" for p in PHASES)
          + f" {'efficiency':>10} {'MiB/rank':>9} {'KiB/DOF':>8}")
    for case in cases:
        total = case["timing"]["total"]
        ideal = base["timing"]["total"] * (1 if weak else base["ranks"] / case["ranks"])
        memory = case["peak_mib_per_rank"] * case["ranks"] * 1024 / case["dofs"]
        print(f"{case['ranks']:>5} {case['cells']:>9} {case['dofs']:>9} {total:>8.1f} "
              + " ".join(f"{case['timing'][p]:>12.2f}" for p in PHASES)
              + f" {ideal / total:>10.0%} {case['peak_mib_per_rank']:>9.0f} {memory:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--mesh-size", type=float, default=0.1, help="mm (0.1: ~1.1M cells for the default slab)")
    parser.add_argument("--length", type=float, default=4.0, help="slab length along z at the first rank count, mm")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--weak", action="store_true", help="grow the slab with the rank count")
    parser.add_argument("--case", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        return run_case(args.mesh_size, args.length, args.steps, args.out)
    cases = []
    with tempfile.TemporaryDirectory() as scratch:
        launch(args.ranks[0], 0.25, 0.5, 1, Path(scratch) / "warm-up")  # compile the 3D forms once
        for ranks in args.ranks:
            length = args.length * (ranks / args.ranks[0] if args.weak else 1.0)
            cases.append(launch(ranks, args.mesh_size, length, args.steps, Path(scratch) / f"r{ranks}"))
            print(json.dumps(cases[-1]), flush=True)
    print(f"\n{'weak' if args.weak else 'strong'} scaling, {args.steps} steps of the 3D cortical slab, "
          f"mesh size {args.mesh_size} mm (efficiency vs {args.ranks[0]} rank(s))")
    report(cases, args.weak)


if __name__ == "__main__":
    main()
