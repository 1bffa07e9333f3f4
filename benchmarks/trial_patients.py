"""A two-arm virtual trial of 2 x 500 patients over 3 years with cached lesion courses, on 2 cores.

    .venv/bin/python benchmarks/trial_patients.py            # 2 x 500 patients (target: <= 600 s on 2 cores)
    .venv/bin/python benchmarks/trial_patients.py --quick    # 2 x 100 patients

(a) Cache build: the lesion runs the design needs under ``mpirun -n 2`` (white-matter lesions as batched
    radial runs, each rank batching its share; juxtacortical and periventricular lesions and the cortex
    as 2D section runs shared by 2 MPI groups of 1 rank); reported separately, as the target excludes it.
    Baseline lesions are up to ``lesion_age_max`` (10 yr) old, so the lesion courses reach 13 years.
(b) The trial with the cache in place: ``rimmodel trial`` serially and under ``mpirun -n 2``
    (patients shared over the ranks), wall time of each process, and whether the two give the same
    patients table and hazard ratio.
The machine is shared and noisy: the 2-rank / 1-rank ratio is measured within one invocation.
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

BIN = Path(sys.executable).parent
TARGET_S = 600.0
DESIGN = """
[design]
name = "benchmark: two arms x {per_arm} patients, 3 years"
seed = 7
patients = {patients}
replicates = 1
[population]
phenotype = "nrSPMS"
[population.inclusion]
edss_min = 3.0
edss_max = 6.5
age_max = 60.0
[[arms]]
name = "tolebrutinib-60mg"
drug = "tolebrutinib"
dose_mg = 60.0
interval_h = 24.0
[follow_up]
years = 3.0
[calibration]
placebo_event_proportion = 0.3
follow_up = 3.0
patients = 2000
[analysis]
sensitivity = false
"""


def timed(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True,
                          env=os.environ | {"OMP_NUM_THREADS": "1"})
    return time.perf_counter() - started, done.stdout


def build_case(design_path: str, cache: str) -> None:
    """Child process (under mpirun): build the lesion library the design needs."""
    import rimmodel.fem  # noqa: F401  (h5py before dolfinx)
    from rimmodel.fem import MPI
    from rimmodel.patients.design import load_design
    from rimmodel.patients.draws import load_draws
    from rimmodel.patients.run import design_library
    from rimmodel.patients.simulate import arm_plans, needed_classes

    design = load_design(design_path)
    draws = load_draws(design.parameters.draws, design.directory, design.parameters.keep)
    library = design_library(design, draws, cache)
    plans = arm_plans(design, library.horizon)
    lesions, cortices = needed_classes(design, plans, len(draws))
    report = library.ensure(lesions, cortices, MPI.COMM_WORLD)
    if MPI.COMM_WORLD.rank == 0:
        print(json.dumps({"runs": report.runs, "cached": report.cached, "wall_s": report.wall_s,
                          "by_model": report.by_model}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cache", type=Path, help="lesion library to build or reuse (default: a temporary file)")
    parser.add_argument("--build-case", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_case:
        build_case(*args.build_case)
        return
    per_arm = 100 if args.quick else 500
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        design = scratch / "benchmark.toml"
        design.write_text(DESIGN.format(per_arm=per_arm, patients=2 * per_arm))
        cache = args.cache or scratch / "lesion_library.h5"
        build_wall, output = timed([str(BIN / "mpirun"), "-n", "2", sys.executable, __file__, "--build-case",
                                    str(design), str(cache)])
        build = json.loads(output.strip().splitlines()[-1])
        rimmodel = str(BIN / "rimmodel")
        serial_wall, _ = timed([rimmodel, "trial", str(design), "--out", str(scratch / "serial"),
                                "--cache", str(cache)])
        parallel_wall, _ = timed([str(BIN / "mpirun"), "-n", "2", rimmodel, "trial", str(design),
                                  "--out", str(scratch / "parallel"), "--cache", str(cache)])
        results = {name: json.loads((scratch / name / "results.json").read_text()) for name in ("serial", "parallel")}
        tables = [(scratch / name / "patients.csv").read_text() for name in ("serial", "parallel")]
        same_table = tables[0] == tables[1]
        hazard = [r["replicates"][0]["comparisons"]["tolebrutinib-60mg"]["hazard_ratio"] for r in results.values()]
    print(f"lesion library: {build['runs']} runs solved ({build['cached']} already cached) in {build_wall:.1f} s "
          f"wall on 2 ranks (ensure: {build['wall_s']:.1f} s)")
    for model, part in build.get("by_model", {}).items():
        print(f"  {model}: {part['runs']} solved, {part['cached']} cached, {part['wall_s']:.1f} s")
    print("| ranks | wall (s) | in-run: calibration (s) | patients + analysis (s) | patients | "
          "hazard ratio (95 % CI) |")
    print("|---|---|---|---|---|---|")
    for ranks, wall, name in ((1, serial_wall, "serial"), (2, parallel_wall, "parallel")):
        timing, hr = results[name]["timings"], hazard[0 if name == "serial" else 1]
        print(f"| {ranks} | {wall:.1f} | {timing['calibration_s']:.1f} | {timing['trials_s']:.1f} | {2 * per_arm} | "
              f"{hr['value']:.3f} ({hr['low']:.3f}-{hr['high']:.3f}) |")
    print(f"- 2 ranks / 1 rank wall time: {parallel_wall / serial_wall:.2f}")
    print(f"- same patients table and hazard ratio on 1 and 2 ranks: {same_table and hazard[0] == hazard[1]}")
    verdict = "met" if parallel_wall <= TARGET_S else "missed"
    print(f"- target: 2 x {per_arm} patients, 3 years, cached lesions, <= {TARGET_S:.0f} s on 2 cores: {verdict} "
          f"({parallel_wall:.1f} s)")


if __name__ == "__main__":
    main()
