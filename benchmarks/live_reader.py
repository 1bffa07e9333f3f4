"""Watching a run live: what a reader of fields.h5 does to the run, and what it sees.

    .venv/bin/python benchmarks/live_reader.py            # 3 trials per mode
    .venv/bin/python benchmarks/live_reader.py --trials 5

Each trial starts a short run (mesh 0.3 mm, 3 yr, 31 outputs) and, beside it, a reader:
``hold`` opens fields.h5 read-only with h5py and keeps it open 2 s at a time (a viewer);
``poll`` reads the newest output through ``read_fields`` in a tight loop (a live plot).
The writer runs with HDF5 file locking on (``HDF5_USE_FILE_LOCKING=TRUE``, what runs did
before) or as rimmodel now runs it (no HDF5 file locks). Reported: whether the run
completed, the reader's successful reads and errors, and how many values it read differ
from the finished file (a reader may catch the newest output half-written).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
SETTINGS = ["--set", "geometry.mesh_size=0.3", "--set", "time.end=3", "--set", "time.output_interval=0.1",
            "--set", "output.progress=false"]
READER = r"""
import hashlib, json, sys, time, h5py
sys.path.insert(0, sys.argv[3])
from rimmodel.io.field_series import read_fields
run, mode = sys.argv[1], sys.argv[2]
reads, errors, seen = 0, {}, []
deadline = time.monotonic() + 600
while time.monotonic() < deadline:
    try:
        if mode == "hold":
            with h5py.File(f"{run}/fields.h5", "r"):
                reads += 1
                time.sleep(2.0)
        else:
            series = read_fields(run)
            index = len(series.times) - 1
            path = series._paths["microglia"][index]
            seen.append((path, hashlib.sha1(series.values("microglia", index).tobytes()).hexdigest()))
            reads += 1
    except Exception as error:
        key = type(error).__name__
        errors[key] = errors.get(key, 0) + 1
    try:
        if json.load(open(f"{run}/status.json"))["status"] != "running":
            break
    except (OSError, ValueError):
        pass
print(json.dumps({"reads": reads, "errors": errors, "seen": seen}))
"""


def trial(directory: Path, writer_locking: bool, mode: str) -> dict:
    run = directory / f"{mode}-{'locking' if writer_locking else 'nolocking'}"
    env = {k: v for k, v in os.environ.items() if k != "HDF5_USE_FILE_LOCKING"} | {"OMP_NUM_THREADS": "1"}
    writer_env = env | ({"HDF5_USE_FILE_LOCKING": "TRUE"} if writer_locking else {})
    writer = subprocess.Popen([str(BIN / "rimmodel"), "run", str(REPO / "experiments/reference_untreated.toml"),
                               *SETTINGS, "--out", str(run)], env=writer_env, cwd=REPO,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while not (run / "fields.h5").exists() and writer.poll() is None:
        time.sleep(0.01)
    reader = subprocess.run([sys.executable, "-c", READER, str(run), mode, str(REPO)], env=env,
                            capture_output=True, text=True)
    writer.wait()
    found = json.loads(reader.stdout or '{"reads": 0, "errors": {"no output": 1}, "seen": []}')
    status = json.loads((run / "status.json").read_text())["status"]
    return {"mode": mode, "writer_hdf5_locking": writer_locking, "run": status,
            "reads": found["reads"], "reader_errors": found["errors"],
            "values_read": len(found["seen"]), "values_differing_from_final_file": _differing(run, found["seen"])}


def _differing(run: Path, seen: list) -> int:
    """How many of the (dataset, digest) pairs a reader saw differ from the finished file."""
    if not seen:
        return 0
    with h5py.File(run / "fields.h5", "r") as h5:
        final = {path: hashlib.sha1(h5[path][()].ravel().tobytes()).hexdigest() for path, _ in seen if path in h5}
    return sum(final.get(path) != digest for path, digest in seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for number in range(args.trials):
            for writer_locking in (True, False):
                for mode in ("hold", "poll"):
                    row = trial(Path(scratch) / str(number), writer_locking, mode)
                    print(json.dumps(row), flush=True)
                    rows.append(row)
    for writer_locking in (True, False):
        for mode in ("hold", "poll"):
            chosen = [r for r in rows if r["writer_hdf5_locking"] == writer_locking and r["mode"] == mode]
            completed = sum(r["run"] == "completed" for r in chosen)
            errors = sum(sum(r["reader_errors"].values()) for r in chosen)
            print(f"writer HDF5 locking {'on ' if writer_locking else 'off'}, reader {mode}: runs completed "
                  f"{completed}/{len(chosen)}; reads {sum(r['reads'] for r in chosen)}, reader errors {errors}, "
                  f"field arrays read {sum(r['values_read'] for r in chosen)}, differing from the final file "
                  f"{sum(r['values_differing_from_final_file'] for r in chosen)}")


if __name__ == "__main__":
    main()
