"""The spherical (1D radial) lesion model against the same lesion in 3D (issue 17).

    .venv/bin/mpirun -n 2 .venv/bin/python benchmarks/radial_vs_3d.py                 # 3D at 0.25 and 0.18 mm
    .venv/bin/mpirun -n 2 .venv/bin/python benchmarks/radial_vs_3d.py --sizes 0.25 0.18 0.125

The default 10-year model (follicles have no pia to act on in either geometry) is run
* radially (geometry.kind = "spherical_lesion", 1D mesh in r, r^2 weight) at a fine reference
  size, at each 3D mesh size, and in a ball as small as the 3D box (the wall's influence);
* in 3D on the octant [0, L]^3 of a cube with the lesion centre at the corner
  (rimmodel.verification.spherical_3d), GMRES + fieldsplit (solver.preset = "iterative_3d").
It prints the lesion radius trajectories and the relative differences |r - r_ref| / r_ref
against the fine radial reference, max over output times, and writes radial_vs_3d.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from rimmodel.config import load_config
from rimmodel.fem import MPI
from rimmodel.geometry import build_domain
from rimmodel.verification.spherical_3d import (OCTANT_COPIES, lesion_radius_trajectory, octant_box,
                                                relative_difference)

REFERENCE_SIZE = 0.0125  # mm: radial reference (0.025 mm gives the same 10-year radius to 0.02 %)
RESULTS = Path(__file__).with_suffix(".json")


def radial(size: float, outer_radius: float, years: float):
    config = load_config(None, ['geometry.kind="spherical_lesion"', f"geometry.mesh_size={size}",
                                f"geometry.outer_radius={outer_radius}", f"time.end={years}"])
    return lesion_radius_trajectory(build_domain(config.geometry, MPI.COMM_WORLD), config)


def octant(size: float, half_width: float, years: float):
    config = load_config(None, [f"time.end={years}", 'solver.preset="iterative_3d"'])
    return lesion_radius_trajectory(octant_box(MPI.COMM_WORLD, half_width, size), config, OCTANT_COPIES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[0.25, 0.18], help="3D mesh sizes (mm)")
    parser.add_argument("--half-width", type=float, default=4.5, help="octant edge L (mm)")
    parser.add_argument("--years", type=float, default=10.0)
    args = parser.parse_args()
    rank0 = MPI.COMM_WORLD.rank == 0
    log = (lambda text: print(text, flush=True)) if rank0 else (lambda text: None)
    reference = radial(REFERENCE_SIZE, 10.0, args.years)
    rows, found = [], {"reference": vars(reference)}
    log(f"radial reference h = {REFERENCE_SIZE} mm, R = 10 mm: {np.round(reference.radii, 4).tolist()}")
    cases = [("radial", args.half_width, REFERENCE_SIZE)] + [("radial", 10.0, h) for h in args.sizes] \
        + [("3D octant", args.half_width, h) for h in args.sizes]
    for kind, extent, size in cases:
        started = time.perf_counter()
        trajectory = (radial(size, extent, args.years) if kind == "radial"
                      else octant(size, extent, args.years))
        seconds = MPI.COMM_WORLD.allreduce(time.perf_counter() - started, op=MPI.MAX)
        difference = relative_difference(trajectory, reference)
        label = f"{kind}, {'R' if kind == 'radial' else 'L'} = {extent:g} mm, h = {size:g} mm"
        found[label] = vars(trajectory) | {"seconds": seconds}
        rows.append(f"| {label} | {trajectory.dofs} | {trajectory.steps} | {seconds:.1f} | "
                    f"{trajectory.radii[-1]:.4f} | {difference[-1]:.2%} | {difference.max():.2%} |")
        log(f"{label}: {np.round(trajectory.radii, 4).tolist()} ({seconds:.1f} s)")
    log(f"\nLesion equivalent radius against the radial reference (h = {REFERENCE_SIZE} mm; "
        f"r({args.years:g} yr) = {reference.radii[-1]:.4f} mm), {MPI.COMM_WORLD.size} rank(s):\n")
    log("| model | DOFs | steps | wall (s) | radius at end (mm) | difference at end | max difference |")
    log("|---|---|---|---|---|---|---|")
    log("\n".join(rows))
    if rank0:
        RESULTS.write_text(json.dumps(found, indent=1) + "\n")


if __name__ == "__main__":
    main()
