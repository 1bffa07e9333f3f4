#!/bin/bash
# Submit a study as a Slurm job array of N tasks plus a collection job that runs after all of them.
#   hpc/submit_study_array.sh STUDY.toml STUDY_DIR N [extra sbatch options, e.g. --ntasks=4 --time=1:00:00]
# Prints the two job ids. Logs go to STUDY_DIR/slurm-*.out.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 3 ]; then sed -n 2,4p "$0"; exit 2; fi
STUDY=$1; OUT=$2; TASKS=$3; shift 3
mkdir -p "$OUT"
array=$(sbatch --parsable --array=0-$((TASKS - 1)) --output="$OUT/slurm-%A_%a.out" "$@" \
        hpc/study_array.sbatch "$STUDY" "$OUT")
collect=$(sbatch --parsable --dependency=afterany:"${array%%;*}" --output="$OUT/slurm-%j-collect.out" "$@" \
          hpc/study_collect.sbatch "$STUDY" "$OUT")
echo "array job ${array%%;*}, collection job ${collect%%;*}"
