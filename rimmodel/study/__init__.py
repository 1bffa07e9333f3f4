"""Parameter studies: sampled ensembles run by MPI groups, resumable, with sensitivity analysis."""
