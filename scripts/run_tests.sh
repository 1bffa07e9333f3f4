#!/usr/bin/env bash
# The whole test suite, serially and then under mpirun with N ranks (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
NP=${1:-2}
BIN=.venv/bin
export OMP_NUM_THREADS=1 PYVISTA_OFF_SCREEN=true
echo "== tests, serial"
"$BIN/python" -m pytest -q --durations=15 tests
echo "== rimmodel verify --quick"
scratch=$(mktemp -d)
"$BIN/rimmodel" verify --quick --out "$scratch/verification.md" && rm -rf "$scratch"
echo "== tests, mpirun -n $NP"
# every rank runs the same tests; rank 0 reports, the others stay quiet unless they fail
"$BIN/mpirun" -n "$NP" "$BIN/python" -m pytest -q -p no:cacheprovider tests/ \
    --rank-quiet || { for log in "${TMPDIR:-/tmp}"/pytest-rank-*.log; do echo "== $log"; tail -n 60 "$log"; done; exit 1; }
