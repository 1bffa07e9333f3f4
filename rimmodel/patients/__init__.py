"""Virtual patients and trials simulated as trials are run.

A patient is a population of lesions (count, sizes, locations, rim or inactive), a cortical
follicle burden, new lesions and relapses as a stochastic process, ageing, and a disability
score measured with noise at visits. Lesion courses come from model runs through the narrow
``LesionTrajectories`` interface (trajectories.py), today a cached library of 2D section runs
(library.py); parameter sets come from a ``ParameterDraws`` source (draws.py). docs/patients.md
documents every choice and its source.
"""
