# Sourced by the hpc/*.sbatch scripts: finds rimmodel and picks the MPI launcher.
#   pip install (make setup):          .venv/bin/rimmodel, .venv/bin/mpirun (mpich wheel)
#   conda (environment.yml) / modules: rimmodel on PATH; set RIMMODEL_USE_SRUN=1 to launch with srun
#                                      when the site MPI and Slurm's PMI match
if [ -x .venv/bin/rimmodel ]; then BIN=.venv/bin/; else BIN=""; fi
export OMP_NUM_THREADS=1          # one thread per MPI rank: PETSc/MUMPS are MPI-parallel
export PYTHONUNBUFFERED=1         # progress lines reach the Slurm log as they happen
ranks=${SLURM_NTASKS:-1}
if [ -n "${RIMMODEL_USE_SRUN:-}" ]; then LAUNCH=(srun -n "$ranks"); else LAUNCH=("${BIN}mpirun" -n "$ranks"); fi

# launch CMD...: run CMD under $LAUNCH and pass SIGTERM / SIGINT on to it. Slurm signals the batch
# shell at the time limit (and, with "#SBATCH --signal=B:TERM@60", a minute before): a plain bash
# would die at once and Slurm then SIGKILL the ranks mid-step. Passed on, every rank stops after its
# current step, the run records "interrupted" and prints its --resume command (docs/outputs.md).
launch() {
    "${LAUNCH[@]}" "$@" &
    local pid=$! status=0
    trap 'kill -TERM "$pid" 2>/dev/null' TERM
    trap 'kill -INT "$pid" 2>/dev/null' INT
    while true; do
        status=0
        wait "$pid" || status=$?
        kill -0 "$pid" 2>/dev/null || break  # wait returns early when a trap ran: wait again
    done
    trap - TERM INT
    return "$status"
}
