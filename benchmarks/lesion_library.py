"""Lesion library: build cost, query error against fresh solves, query speed (issue 17).

    .venv/bin/python benchmarks/lesion_library.py                # libraries of 256, 1024, 2048 samples
    .venv/bin/python benchmarks/lesion_library.py --sizes 256    # one size

Each library is experiments/libraries/radial_lesions.toml with ``study.samples`` set, built with
``mpirun -n 2 rimmodel library build`` (timed as a whole). The test set is 64 points drawn
uniformly from the same box with another seed (on the log scale for loguniform parameters), solved
fresh with the radial model in one batch. For each library the emulator's trajectories are
compared with the fresh ones:
* radius: max over output times of |r_query - r_fresh|, in mm and relative to the fresh lesion's
  travel over the 10 years (|r(10) - r(0)|, at least one cell);
* volume, tissue loss, axon loss: max over output times of the error relative to the fresh value at 10 years;
* iron: max over output times of the error relative to the fresh trajectory's peak (iron is cleared
  slowly after a rim dies out, so its 10-year value can be near zero);
* rim thickness: max absolute error (mm).
Median, 95th percentile and maximum over the test points are printed, with the query time per
point (all series, all output times; one point at a time and 64 points in one call) against the
time to solve a point afresh, alone and amortised in a batch.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np
import tomli_w

SPEC = Path(__file__).resolve().parents[1] / "experiments" / "libraries" / "radial_lesions.toml"
BIN = Path(sys.executable).parent
TEST_POINTS = 64
RESULTS = Path(__file__).with_suffix(".json")
SERIES = ("lesion_equivalent_radius", "lesion_size", "rim_thickness", "iron_total", "tissue_loss", "axon_loss")
RELATIVE_TO_FINAL = (("lesion_size", "volume / final volume"), ("tissue_loss", "tissue loss / final"),
                     ("axon_loss", "axon loss / final"))


def build(samples: int, scratch: Path) -> tuple[Path, float]:
    raw = tomllib.loads(SPEC.read_text())
    raw["study"]["samples"] = samples
    spec = scratch / f"library_{samples}.toml"
    spec.write_text(tomli_w.dumps(raw))
    out = scratch / f"library_{samples}.h5"
    started = time.perf_counter()
    subprocess.run([str(BIN / "mpirun"), "-n", "2", str(BIN / "rimmodel"), "library", "build", str(spec), "--out",
                    str(out), "--batch-size", "128"], check=True, capture_output=True,
                   env=os.environ | {"OMP_NUM_THREADS": "1"})
    return out, time.perf_counter() - started


def test_points(library, seed: int = 20261130) -> list[dict]:
    rng = np.random.default_rng(seed)
    unit = rng.random((TEST_POINTS, len(library.names)))
    low, high, log = library.low, library.high, library.log_scale
    values = low + unit * (high - low)
    values[:, log] = np.exp(np.log(low[log]) + unit[:, log] * (np.log(high[log]) - np.log(low[log])))
    return [dict(zip(library.names, row.tolist())) for row in values]


def fresh_solves(points: list[dict]) -> tuple[dict[str, np.ndarray], float, float]:
    """Trajectories of every point solved afresh; seconds per point in one batch and alone."""
    from rimmodel.batch.runner import RadialBatch
    from rimmodel.study.spec import load_study, model_config_for

    study = load_study(SPEC)
    configs = [model_config_for(study, point, context="test point") for point in points]
    batch = RadialBatch(configs)
    started = time.perf_counter()
    result = batch.run()
    batched = (time.perf_counter() - started) / len(points)
    single = RadialBatch(configs[:1])
    single.run()  # warm
    started = time.perf_counter()
    single.run()
    alone = time.perf_counter() - started
    return result.series, batched, alone


def errors(found: dict[str, np.ndarray], fresh: dict[str, np.ndarray], cell: float) -> dict[str, np.ndarray]:
    radius = fresh["lesion_equivalent_radius"]
    travel = np.maximum(np.abs(radius[:, -1] - radius[:, 0]), cell)
    radius_error = np.abs(found["lesion_equivalent_radius"] - radius).max(axis=1)
    out = {"radius (mm)": radius_error, "radius / travel": radius_error / travel,
           "rim thickness (mm)": np.abs(found["rim_thickness"] - fresh["rim_thickness"]).max(axis=1)}
    for name, label in RELATIVE_TO_FINAL:
        out[label] = np.abs(found[name] - fresh[name]).max(axis=1) / np.abs(fresh[name][:, -1])
    # iron is laid down by the rim and cleared slowly: a rim that dies out leaves little at 10 years
    iron_peak = np.abs(fresh["iron_total"]).max(axis=1)
    out["iron / peak iron"] = np.abs(found["iron_total"] - fresh["iron_total"]).max(axis=1) / iron_peak
    return out


def query_speed(library, points: list[dict]) -> tuple[float, float]:
    library.query(points[0], SERIES)  # builds the interpolants
    started = time.perf_counter()
    for point in points:
        library.query(point, SERIES)
    one = (time.perf_counter() - started) / len(points)
    started = time.perf_counter()
    library.query(points, SERIES)
    return one, (time.perf_counter() - started) / len(points)


def main() -> None:
    from rimmodel.library.emulator import LesionLibrary

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024, 2048])
    args = parser.parse_args()
    log = lambda text: print(text, flush=True)  # noqa: E731
    mesh_size = tomllib.loads(SPEC.read_text())["model"]["geometry"]["mesh_size"]
    rows, found = [], {}
    with tempfile.TemporaryDirectory(prefix="lesion-library-") as scratch:
        fresh = None
        for samples in args.sizes:
            path, build_s = build(samples, Path(scratch))
            library = LesionLibrary(path)
            if fresh is None:
                points = test_points(library)
                fresh, batched_s, alone_s = fresh_solves(points)
                log(f"fresh solves of {TEST_POINTS} test points: {batched_s * 1000:.1f} ms per point in one batch, "
                    f"{alone_s * 1000:.1f} ms alone")
            queried = library.query(points, SERIES)
            one_s, many_s = query_speed(library, points)
            measured = errors(queried, fresh, mesh_size)
            found[samples] = {"build_s": build_s, "failed": library.failed, "query_one_s": one_s,
                              "query_many_s": many_s, "errors": {k: v.tolist() for k, v in measured.items()}}
            log(f"library of {samples} ({library.failed} failed): built in {build_s:.1f} s on 2 ranks; "
                f"query {one_s * 1000:.2f} ms per point alone, {many_s * 1000:.3f} ms in a call of {TEST_POINTS}")
            for label, values in measured.items():
                rows.append(f"| {samples} | {label} | {np.median(values):.3g} | {np.percentile(values, 95):.3g} | "
                            f"{values.max():.3g} |")
    log("\n| library samples | error (max over 0-10 yr) | median | 95th percentile | max |\n|---|---|---|---|---|")
    log("\n".join(rows))
    log(f"\nfresh solve per point: {batched_s * 1000:.1f} ms in a batch of {TEST_POINTS}, "
        f"{alone_s * 1000:.1f} ms alone")
    for samples, entry in found.items():
        log(f"- library {samples}: query / fresh solve alone = {entry['query_one_s'] / alone_s:.4f}; "
            f"query in a call of {TEST_POINTS} / fresh in a batch = {entry['query_many_s'] / batched_s:.4f}")
    RESULTS.write_text(json.dumps({"measured": time.strftime("%Y-%m-%d"), "fresh_batched_s": batched_s,
                                   "fresh_alone_s": alone_s, "libraries": found}, indent=1) + "\n")


if __name__ == "__main__":
    main()
