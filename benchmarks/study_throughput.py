"""Ensemble throughput of the 2D reference problem on 2 cores, and per-run start-up cost.

    .venv/bin/python benchmarks/study_throughput.py            # 8 samples x 2 yr, 2 repeats
    .venv/bin/python benchmarks/study_throughput.py --quick    # 4 samples x 1 yr, 1 repeat

(a) Throughput: the same Latin-hypercube study run as 2 groups x 1 rank and as 1 group x 2 ranks
    (``mpirun -n 2 rimmodel study --ranks-per-run R``), alternating, runs/hour and their ratio.
(b) Start-up per run: building a Simulation with a cold form cache (fresh XDG_CACHE_HOME), with a
    warm on-disk cache in a new process, and switching parameters with ``reconfigure`` (what a
    study group does between samples).
The machine is shared and noisy: compare the ratios, which are measured within one invocation.
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

BIN = Path(sys.executable).parent
STUDY = """
[study]
sampler = "latin"
samples = {samples}
seed = 11
observables = ["lesion_equivalent_radius"]
[model.time]
end = {years}
[parameters."microglia.chemotactic_sensitivity"]
distribution = "uniform"
low = 0.02
high = 0.12
[parameters."btk.cns_occupancy"]
distribution = "uniform"
low = 0.0
high = 0.9
"""


def ensemble(study: Path, out: Path, ranks_per_run: int) -> float:
    started = time.perf_counter()
    subprocess.run([str(BIN / "mpirun"), "-n", "2", str(BIN / "rimmodel"), "study", str(study), "--out", str(out),
                    "--ranks-per-run", str(ranks_per_run), "--quiet"], check=True, capture_output=True,
                   env=os.environ | {"OMP_NUM_THREADS": "1"})
    return time.perf_counter() - started


def startup(cache: Path | None) -> dict:
    """Build times measured inside a fresh process (rank 0 of 1)."""
    env = os.environ | {"OMP_NUM_THREADS": "1"} | ({"XDG_CACHE_HOME": str(cache)} if cache else {})
    output = subprocess.run([sys.executable, __file__, "--startup-case"], check=True, capture_output=True,
                            text=True, env=env).stdout
    return json.loads(output.strip().splitlines()[-1])


def startup_case() -> None:
    from rimmodel.config import load_config
    from rimmodel.simulation import Simulation

    config = load_config(None, ("output.progress=false",))
    started = time.perf_counter()
    simulation = Simulation(config)
    built = time.perf_counter()
    simulation.reconfigure(load_config(None, ("output.progress=false", "btk.cns_occupancy=0.5")))
    print(json.dumps({"build_s": built - started, "reconfigure_s": time.perf_counter() - built}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--startup-case", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.startup_case:
        return startup_case()
    samples, years, repeats = (4, 1.0, 1) if args.quick else (8, 2.0, 2)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        study = scratch / "study.toml"
        study.write_text(STUDY.format(samples=samples, years=years))
        ensemble(study, scratch / "warm-up", 1)  # fills the form cache for both layouts
        walls = {1: [], 2: []}
        for repeat in range(repeats):
            for ranks_per_run in (1, 2) if repeat % 2 == 0 else (2, 1):
                walls[ranks_per_run].append(ensemble(study, scratch / f"r{repeat}-{ranks_per_run}", ranks_per_run))
        cold = [startup(scratch / f"cache-{i}") for i in range(repeats)]
        warm = [startup(None) for _ in range(repeats)]
    print(f"Ensemble: {samples} runs of the 2D reference ({years:g} yr, default mesh) on 2 cores, "
          f"median of {repeats}")
    print(f"{'layout':<24}{'wall (s)':>10}{'runs/hour':>12}")
    for ranks_per_run, label in ((1, "2 groups x 1 rank"), (2, "1 group x 2 ranks")):
        wall = statistics.median(walls[ranks_per_run])
        print(f"{label:<24}{wall:>10.1f}{samples / wall * 3600:>12.0f}")
    ratio = statistics.median(walls[2]) / statistics.median(walls[1])
    print(f"throughput ratio (2 groups x 1 rank) / (1 group x 2 ranks): {ratio:.2f}")
    print("\nStart-up per run (serial build of mesh, spaces and forms), median")
    print(f"  cold form cache (new process):   {statistics.median(c['build_s'] for c in cold):6.2f} s")
    print(f"  warm on-disk cache (new process):{statistics.median(w['build_s'] for w in warm):6.2f} s")
    print(f"  reconfigure (next study sample): {statistics.median(w['reconfigure_s'] for w in warm):6.3f} s")


if __name__ == "__main__":
    main()
