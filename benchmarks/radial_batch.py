"""Radial lesions at 1D cost, one at a time and in batches, against the 2D section (issue 17).

    .venv/bin/python benchmarks/radial_batch.py            # accuracy search, timings, 2-core throughput
    .venv/bin/python benchmarks/radial_batch.py --quick    # smaller batches, one repetition

1. Accuracy: the coarsest radial mesh and largest step (outputs every 0.5 yr, so dt <= 0.5) whose
   10-year lesion-radius trajectory stays within 1 % of the edge's travel of a fine radial run
   (h = 0.0125 mm, dt = 0.025 yr) at every output time, for that step and the next smaller one.
2. In this process, with warm form caches (build times listed apart): the 2D reference section
   (default config, 10 yr, no field output) and, at the chosen radial setting, one radial run
   through ``Simulation`` (run directory, observables, checkpoints off), one through
   ``RadialBatch`` (no files), and batches of N sampled parameter sets: seconds per sample.
3. Throughput on 2 cores: ``mpirun -n 2``, each rank advancing its own batches on its own
   communicator (samples split between ranks, as a study's groups of one rank): lesion-runs/hour.
Targets (issue 17): <= 0.05 s per sample amortised in a batch; >= 20,000 lesion-runs/hour on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

OUTER_RADIUS = 6.0
TOLERANCE = 0.01
SIZES = (0.25, 0.2, 0.16, 0.125, 0.1, 0.08, 0.05)
STEPS = (0.5, 0.25, 0.1)
REFERENCE = (0.0125, 0.025)
QUIET = ("output.fields=false", "output.progress=false", "output.checkpoints=false")
# the sampled space: ranges around the defaults (docs/model.md), lesion sizes 0.5-1.5 mm
SPACE = {"microglia.activation_rate": (1.8, 2.6), "microglia.deactivation_rate": (0.4, 0.6),
         "microglia.chemotactic_sensitivity": (0.05, 0.15), "btk.cns_occupancy": (0.0, 0.8),
         "lesion.radius": (0.5, 1.5)}
RESULTS = Path(__file__).with_suffix(".json")


def radial_config(size: float, dt: float, extra=()):
    from rimmodel.config import load_config

    return load_config(None, ('geometry.kind="spherical_lesion"', f"geometry.outer_radius={OUTER_RADIUS}",
                              f"geometry.mesh_size={size}", f"time.dt={dt}", *QUIET, *extra))


def sampled_configs(count: int, size: float, dt: float, seed: int = 3):
    rng = np.random.default_rng(seed)
    return [radial_config(size, dt, [f"{key}={rng.uniform(*span)}" for key, span in SPACE.items()])
            for _ in range(count)]


def trajectory(size: float, dt: float) -> np.ndarray:
    from rimmodel.batch.runner import RadialBatch

    return RadialBatch([radial_config(size, dt)]).run().series["lesion_equivalent_radius"][0]


def choose_setting(log) -> tuple[float, float]:
    reference = trajectory(*REFERENCE)
    travel = reference[-1] - reference[0]
    for size in SIZES:
        errors = [float(np.max(np.abs(trajectory(size, dt) - reference)) / travel) for dt in STEPS]
        log(f"  h = {size:<6g} max trajectory error at dt = {STEPS}: {', '.join(f'{e:.2%}' for e in errors)}")
        for i in range(len(STEPS) - 1):
            if max(errors[i:i + 2]) <= TOLERANCE:
                return size, STEPS[i]
    raise SystemExit(f"no radial setting reached {TOLERANCE:.0%}")


def timed(fn) -> tuple[object, float]:
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def cpu_timed(fn) -> tuple[object, float, float]:
    """Wall and CPU seconds of this process: on a shared machine the CPU time is what the run
    cost, the wall time also what it waited for the cores."""
    started, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - started, time.process_time() - cpu


def section_run(log) -> dict:
    from rimmodel.config import load_config
    from rimmodel.simulation import Simulation

    simulation, build = timed(lambda: Simulation(load_config(None, QUIET)))
    simulation.run(Path(os.environ.get("TMPDIR", "/tmp")) / "radial-batch-section-warm", overwrite=True)
    record, run, cpu = cpu_timed(lambda: simulation.run(Path(os.environ.get("TMPDIR", "/tmp")) / "radial-batch-section",
                                                        overwrite=True))
    log(f"2D section: {simulation.disc.global_dofs()} DOFs, build {build:.2f} s, 10-year run {run:.2f} s "
        f"({cpu:.2f} s CPU)")
    return {"dofs": simulation.disc.global_dofs(), "build_s": build, "run_s": run, "cpu_s": cpu}


def single_radial(size: float, dt: float, log) -> dict:
    from rimmodel.batch.runner import RadialBatch
    from rimmodel.simulation import Simulation

    config = radial_config(size, dt)
    simulation, build = timed(lambda: Simulation(config))
    out = Path(os.environ.get("TMPDIR", "/tmp")) / "radial-batch-single"
    simulation.run(out, overwrite=True)
    _, run, cpu = cpu_timed(lambda: simulation.run(out, overwrite=True))
    batch, batch_build = timed(lambda: RadialBatch([config]))
    batch.run()
    _, batch_run, batch_cpu = cpu_timed(batch.run)
    log(f"radial, one run: Simulation build {build:.2f} s run {run:.3f} s ({cpu:.3f} s CPU); RadialBatch of 1 "
        f"build {batch_build:.2f} s run {batch_run:.3f} s ({batch_cpu:.3f} s CPU)")
    return {"simulation_build_s": build, "simulation_run_s": run, "simulation_cpu_s": cpu, "batch_build_s": batch_build,
            "batch_run_s": batch_run, "batch_cpu_s": batch_cpu}


def batch_costs(size: float, dt: float, counts: list[int], log) -> list[dict]:
    from rimmodel.batch.runner import RadialBatch

    rows = []
    for count in counts:
        configs = sampled_configs(count, size, dt)  # validated configs: not part of the batch's cost
        batch, build = timed(lambda: RadialBatch(configs))
        result, run, cpu = cpu_timed(batch.run)
        rows.append({"samples": count, "dofs": batch.disc.global_dofs(), "build_s": build, "run_s": run,
                     "cpu_s": cpu, "per_sample_s": run / count, "per_sample_cpu_s": cpu / count,
                     "steps": result.steps, "rejected": result.rejected,
                     "newton_iterations": result.newton_iterations})
        log(f"batch of {count}: {batch.disc.global_dofs()} DOFs, build {build:.2f} s, run {run:.2f} s "
            f"({cpu:.2f} s CPU), {run / count * 1000:.1f} ms per sample, {result.steps} steps "
            f"({result.rejected} rejected)")
    return rows


def throughput_child(size: float, dt: float, per_rank: int, batch_size: int) -> None:
    """Each rank: its own batches on COMM_SELF; rank 0 prints the wall time of the slowest rank."""
    from rimmodel.batch.runner import RadialBatch
    from rimmodel.fem import MPI

    world = MPI.COMM_WORLD
    configs = sampled_configs(per_rank, size, dt, seed=100 + world.rank)
    batches = [configs[i:i + batch_size] for i in range(0, per_rank, batch_size)]
    built = {}
    world.Barrier()
    started = time.perf_counter()
    for chunk in batches:
        batch = built.get(len(chunk))
        if batch is None:
            batch = built[len(chunk)] = RadialBatch(chunk, MPI.COMM_SELF)
        else:
            batch.reconfigure(chunk)
        batch.run()
    wall = world.allreduce(time.perf_counter() - started, op=MPI.MAX)
    if world.rank == 0:
        print(json.dumps({"ranks": world.size, "samples": per_rank * world.size, "wall_s": wall}), flush=True)


def throughput(size: float, dt: float, ranks: int, per_rank: int, batch_size: int) -> dict:
    command = [sys.executable, __file__, "--throughput-child", json.dumps([size, dt, per_rank, batch_size])]
    if ranks > 1:
        command = [str(Path(sys.executable).parent / "mpirun"), "-n", str(ranks)] + command
    done = subprocess.run(command, capture_output=True, text=True, check=True,
                          env=os.environ | {"OMP_NUM_THREADS": "1"})
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return found | {"runs_per_hour": found["samples"] / found["wall_s"] * 3600}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--throughput-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.throughput_child:
        return throughput_child(*json.loads(args.throughput_child))
    log = lambda text: print(text, flush=True)  # noqa: E731
    log("Accuracy search (radial, 10 years, outputs every 0.5 yr):")
    size, dt = choose_setting(log)
    log(f"chosen: h = {size} mm, dt = {dt} yr, ball radius {OUTER_RADIUS} mm")
    section = section_run(log)
    single = single_radial(size, dt, log)
    counts = [16, 64] if args.quick else [16, 64, 256]
    batches = batch_costs(size, dt, counts, log)
    per_rank, batch_size = (64, 64) if args.quick else (512, 256)
    rates = {ranks: throughput(size, dt, ranks, per_rank, batch_size) for ranks in (1, 2)}
    best = min(batches, key=lambda row: row["per_sample_s"])
    lines = [
        "| run | DOFs | wall, run only (s) | per lesion, wall (s) | per lesion, CPU (s) |", "|---|---|---|---|---|",
        f"| 2D section, Simulation (10 yr) | {section['dofs']} | {section['run_s']:.2f} | {section['run_s']:.3f} | "
        f"{section['cpu_s']:.3f} |",
        f"| radial, Simulation (run directory) | {5 * (round(OUTER_RADIUS / size) + 1)} | "
        f"{single['simulation_run_s']:.3f} | {single['simulation_run_s']:.3f} | {single['simulation_cpu_s']:.3f} |",
        f"| radial, RadialBatch of 1 | {5 * (round(OUTER_RADIUS / size) + 1)} | {single['batch_run_s']:.3f} | "
        f"{single['batch_run_s']:.3f} | {single['batch_cpu_s']:.3f} |"]
    lines += [f"| radial, batch of {row['samples']} (build {row['build_s']:.2f} s) | {row['dofs']} | "
              f"{row['run_s']:.2f} | "
              f"{row['per_sample_s']:.4f} | {row['per_sample_cpu_s']:.4f} |" for row in batches]
    log("\n" + "\n".join(lines) + "\n")
    for ranks, rate in rates.items():
        log(f"- throughput, {ranks} rank(s), batches of {batch_size}: {rate['samples']} lesions in "
            f"{rate['wall_s']:.1f} s"
            f" = {rate['runs_per_hour']:,.0f} lesion-runs/hour")
    log(f"- per sample, best batch ({best['samples']}) / one radial Simulation run: "
        f"{best['per_sample_s'] / single['simulation_run_s']:.3f}; / RadialBatch of 1: "
        f"{best['per_sample_s'] / single['batch_run_s']:.3f}; / 2D section run: "
        f"{best['per_sample_s'] / section['run_s']:.4f}")
    log(f"- CPU per sample, best batch / 2D section run: {best['per_sample_cpu_s'] / section['cpu_s']:.4f}; the "
        f"run-time ratio of this machine's load: 2D section wall / CPU = {section['run_s'] / section['cpu_s']:.2f}")
    with_build = (best["run_s"] + best["build_s"]) / best["samples"]
    log(f"- target <= 0.05 s per sample: {'met' if best['per_sample_s'] <= 0.05 else 'missed'} "
        f"({best['per_sample_s']:.4f} s; {with_build:.4f} s including the batch's build, which a study "
        f"reuses across batches); target >= 20,000 runs/hour on 2 cores (builds included): "
        f"{'met' if rates[2]['runs_per_hour'] >= 20000 else 'missed'} ({rates[2]['runs_per_hour']:,.0f})")
    RESULTS.write_text(json.dumps({"measured": time.strftime("%Y-%m-%d"), "mesh_size": size, "dt": dt,
                                   "section": section, "single": single, "batches": batches,
                                   "throughput": {str(k): v for k, v in rates.items()}}, indent=1) + "\n")


if __name__ == "__main__":
    main()
