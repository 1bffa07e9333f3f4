"""One scaling case inside ``mpirun``: the 3D cortical slab for a few steps; rank 0 prints one JSON line.

Launched by benchmarks/scaling.py (see there). Besides wall time per phase it records what the
weak-scaling projection needs and a wall clock cannot give: iteration and assembly counts, the
PETSc event log's message counts and bytes and its calls of global reductions, the partition (owned and ghost DOFs,
neighbour ranks from the index map), GAMG levels, peak memory, and how busy the rest of the
machine was during the run (a shared machine: a competing process invalidates a 2-rank time).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import time
from pathlib import Path

import numpy as np

# PETSc events: the four solver phases of rimmodel.solver.phases, two inside KSPSolve, and the
# global reductions (this PETSc's log leaves numReductions at 0, so their calls are counted)
EVENTS = ("SNESFunctionEval", "SNESJacobianEval", "PCSetUp", "KSPSolve", "PCApply", "MatMult",
          "VecMDot", "VecNorm", "VecDot", "VecNormalize")
REDUCTIONS = ("VecMDot", "VecNorm", "VecDot")  # VecNormalize calls VecNorm, so it is not added
DT = 0.1  # yr, the default step


def slab_extent(length: float, area_factor: float) -> tuple[float, float]:
    """Width and length (mm) of a slab with ``area_factor`` times the pial area of the default width
    by ``length``. The length grows first, up to the width, then both as a square: a long strip
    would be cut into slices with two neighbours each, unlike a 3D brain (1024 ranks at the
    default length 1 mm of hpc/weak_scaling.sbatch: 90 mm square, inside the 200 mm limits)."""
    from rimmodel.config.parameters import GeometryParameters

    width = GeometryParameters().width
    if length * area_factor <= max(width, length):
        return width, length * area_factor
    side = math.sqrt(width * length * area_factor)
    return side, side


def slab_overrides(mesh_size: float, length: float, area_factor: float, steps: int, preset: str) -> tuple:
    """The default slab with its pial area scaled by ``area_factor``. Growing the area, not the
    depth, keeps the pia, the follicle patches and the lesion where they are: a larger domain is
    more cortex around the same lesion, as in a bigger brain."""
    width, length = slab_extent(length, area_factor)
    return ("geometry.kind=cortical_slab", f"geometry.mesh_size={mesh_size}", f"geometry.width={width}",
            f"geometry.length={length}", f"time.end={steps * DT}", f"time.dt={DT}",
            f"time.output_interval={steps * DT}", "output.fields=false", "output.checkpoints=false",
            "output.progress=false", f"solver.preset={preset}")


def partition(space) -> dict:
    """Owned and ghost DOFs and neighbour ranks per rank (lists over ranks, on rank 0)."""
    index_map, bs = space.dofmap.index_map, space.dofmap.index_map_bs
    mine = (index_map.size_local * bs, index_map.num_ghosts * bs, len(np.unique(index_map.owners)))
    gathered = space.mesh.comm.gather(mine, root=0)
    if gathered is None:
        return {}
    owned, ghosts, neighbours = (list(column) for column in zip(*gathered))
    return {"owned_dofs": owned, "ghost_dofs": ghosts, "neighbours": neighbours}


def describe(disc, args) -> dict:
    """Size and partition of the discretised slab (collective; rank 0 gets the partition lists)."""
    return {"ranks": disc.space.mesh.comm.size, "mesh_size": args.mesh_size, "area_factor": args.area_factor,
            "preset": args.preset, "overrides": args.set, "cells": disc.domain.global_cell_count(),
            "dofs": disc.global_dofs(), "partition": partition(disc.space)}


def petsc_events() -> dict:
    from rimmodel.fem import PETSc

    PETSc.Log.begin()  # idempotent; counters are only kept once logging has begun
    return {name: PETSc.Log.Event(name).getPerfInfo() for name in EVENTS}


def event_deltas(before: dict, after: dict, comm) -> dict:
    """Per event: count and reductions (max over ranks), time (max), flops, messages, bytes (sums)."""
    from rimmodel.fem import MPI

    result = {}
    for name in EVENTS:
        delta = {key: after[name][key] - before[name][key] for key in after[name]}
        result[name] = {"count": comm.allreduce(delta["count"], op=MPI.MAX),
                        "time": comm.allreduce(delta["time"], op=MPI.MAX),
                        "flops": comm.allreduce(delta["flops"]),
                        "messages": comm.allreduce(delta["numMessages"]),
                        "bytes": comm.allreduce(delta["messageLength"]),
                        "reductions": comm.allreduce(delta["numReductions"], op=MPI.MAX)}
    return result


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all processes), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # minus idle, iowait


def solver_structure(snes) -> dict:
    """The preconditioner as built: split types and GAMG levels (levels grow with the problem)."""
    pc = snes.getKSP().getPC()
    if pc.getType() != "fieldsplit":
        return {"pc": pc.getType()}
    splits = [sub.getPC() for sub in pc.getFieldSplitSubKSP()]
    return {"pc": "fieldsplit", "splits": [s.getType() for s in splits],
            "gamg_levels": [s.getMGLevels() for s in splits if s.getType() == "gamg"]}


def measure(args) -> dict | None:
    from rimmodel.config import load_config
    from rimmodel.fem import MPI
    from rimmodel.geometry import build_domain
    from rimmodel.physics.equations import FIELDS
    from rimmodel.simulation import Simulation
    from rimmodel.solver.discretisation import discretise

    config = load_config(None, (*slab_overrides(args.mesh_size, args.length, args.area_factor, args.steps,
                                                args.preset), *args.set))
    if args.partition_only:  # no forms, no matrix: many oversubscribed ranks fit in memory
        case = describe(discretise(build_domain(config.geometry, MPI.COMM_WORLD, config.lesion), config, FIELDS), args)
        return case if MPI.COMM_WORLD.rank == 0 else None
    started = time.perf_counter()
    simulation = Simulation(config)
    built, comm = time.perf_counter() - started, simulation.comm
    case = describe(simulation.disc, args) | {"build_s": built}
    events, busy, cpu = petsc_events(), machine_busy_seconds(), time.process_time()
    started = time.perf_counter()
    record = simulation.run(args.out, overwrite=True)
    wall = time.perf_counter() - started
    own_cpu = comm.allgather(time.process_time() - cpu)
    others = (machine_busy_seconds() - busy - sum(own_cpu)) / wall  # rank 0's view of the machine
    peaks = comm.allgather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    events = event_deltas(events, petsc_events(), comm)
    if comm.rank != 0:
        return None
    steps = [s for s in record.steps if s["accepted"]]
    return case | {
        "timing": record.timing, "events": events, "solver": solver_structure(simulation.stepper.problem.solver),
        "steps": len(steps), "rejected": len(record.steps) - len(steps),
        "newton_iterations": sum(s["newton_iterations"] for s in record.steps),
        "krylov_iterations": sum(s["linear_iterations"] for s in record.steps),
        "jacobian_builds": simulation.stepper.jacobian.builds,
        "step_wall_s": [s["wall_time"] for s in steps],
        "peak_mib_per_rank": peaks, "cpu_s_per_rank": own_cpu, "others_cores": max(others, 0.0),
        "lesion_radius": record.series["lesion_equivalent_radius"][-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mesh-size", type=float, required=True)
    parser.add_argument("--length", type=float, default=4.0)
    parser.add_argument("--area-factor", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--preset", default="iterative_3d")
    parser.add_argument("--partition-only", action="store_true")
    parser.add_argument("--set", action="append", default=[], help="config override section.key=value")
    parser.add_argument("--out", type=Path, required=True)
    case = measure(parser.parse_args())
    if case is not None:
        print(json.dumps(case), flush=True)


if __name__ == "__main__":
    main()
