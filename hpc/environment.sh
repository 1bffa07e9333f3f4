# Sourced by the hpc/*.sbatch scripts: finds rimmodel and picks the MPI launcher.
#   pip install (make setup):          .venv/bin/rimmodel, .venv/bin/mpirun (mpich wheel)
#   conda (environment.yml) / modules: rimmodel on PATH; set RIMMODEL_USE_SRUN=1 to launch with srun
#                                      when the site MPI and Slurm's PMI match
if [ -x .venv/bin/rimmodel ]; then BIN=.venv/bin/; else BIN=""; fi
export OMP_NUM_THREADS=1          # one thread per MPI rank: PETSc/MUMPS are MPI-parallel
export PYTHONUNBUFFERED=1         # progress lines reach the Slurm log as they happen
ranks=${SLURM_NTASKS:-1}
if [ -n "${RIMMODEL_USE_SRUN:-}" ]; then LAUNCH=(srun -n "$ranks"); else LAUNCH=("${BIN}mpirun" -n "$ranks"); fi
