"""The axisymmetric (r-z) model of a lesion beneath the pia, under a follicle disc, against 3D (issue 17).

    .venv/bin/mpirun -n 2 .venv/bin/python benchmarks/axisymmetric_vs_3d.py                # 3D at 0.25 mm
    .venv/bin/mpirun -n 2 .venv/bin/python benchmarks/axisymmetric_vs_3d.py --sizes 0.25 0.2

The default juxtacortical lesion (centre 3.6 mm below the pia, radius 1 mm) with one follicle
patch (density 1, width 0.8 mm) centred above it, 10 years, in a cylinder / quarter slab of
radius / half-width W = 4.5 mm (rimmodel.verification.axisymmetric_3d). Printed: the 3D-volume
observables at 10 years and the largest relative difference over the output times, against the
axisymmetric model at a fine reference size; results in axisymmetric_vs_3d.json.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from rimmodel.fem import MPI
from rimmodel.verification.axisymmetric_3d import COMPARED, configs, run_axisymmetric, run_quarter_slab

REFERENCE_SIZE = 0.05
RESULTS = Path(__file__).with_suffix(".json")


def radius(volume) -> np.ndarray:
    return (3.0 * np.asarray(volume) / (4.0 * math.pi)) ** (1 / 3)


def differences(run, reference) -> dict[str, tuple[float, float]]:
    """name -> (relative difference at the end, max over outputs), relative to the reference's value
    (the lesion as its equivalent radius; cortical sizes relative to the reference's final value)."""
    found = {}
    for name in COMPARED:
        a, b = np.asarray(run.series[name]), np.asarray(reference.series[name])
        if name == "lesion_size":
            a, b = radius(a), radius(b)
            scale = b
        else:
            scale = np.full_like(b, abs(b[-1]))
        difference = np.abs(a - b) / scale
        found[name] = (float(difference[-1]), float(difference.max()))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.25])
    parser.add_argument("--width", type=float, default=4.5)
    parser.add_argument("--years", type=float, default=10.0)
    args = parser.parse_args()
    rank0 = MPI.COMM_WORLD.rank == 0
    log = (lambda text: print(text, flush=True)) if rank0 else (lambda text: None)
    reference = run_axisymmetric(configs(args.width, REFERENCE_SIZE, args.years)[0])
    log(f"axisymmetric reference h = {REFERENCE_SIZE} mm: lesion radius "
        f"{radius(reference.series['lesion_size'][-1]):.4f}"
        f" mm at {args.years:g} yr; " + ", ".join(f"{n} {reference.series[n][-1]:.4g}" for n in COMPARED[1:]))
    rows, stored = [], {"reference": vars(reference)}
    for kind, size in [("axisymmetric", h) for h in args.sizes] + [("3D quarter slab", h) for h in args.sizes]:
        axisymmetric, slab = configs(args.width, size, args.years)
        started = time.perf_counter()
        run = run_axisymmetric(axisymmetric) if kind == "axisymmetric" else run_quarter_slab(slab)
        seconds = MPI.COMM_WORLD.allreduce(time.perf_counter() - started, op=MPI.MAX)
        found = differences(run, reference)
        stored[f"{kind} h={size}"] = vars(run) | {"seconds": seconds, "differences": found}
        rows.append(f"| {kind}, h = {size:g} mm | {run.dofs} | {seconds:.1f} | "
                    f"{radius(run.series['lesion_size'][-1]):.4f} | "
                    + " | ".join(f"{found[n][0]:.2%} / {found[n][1]:.2%}" for n in COMPARED) + " |")
        log(f"{rows[-1]}  (done)")
    log(f"\nAgainst the axisymmetric model at h = {REFERENCE_SIZE} mm ({MPI.COMM_WORLD.size} rank(s)); "
        "each cell: difference at the end / max over the outputs:\n")
    log("| model | DOFs | wall (s) | lesion radius at end (mm) | " + " | ".join(COMPARED) + " |")
    log("|---|---|---|---|" + "---|" * len(COMPARED))
    log("\n".join(rows))
    if rank0:
        RESULTS.write_text(json.dumps(stored, indent=1) + "\n")


if __name__ == "__main__":
    main()
