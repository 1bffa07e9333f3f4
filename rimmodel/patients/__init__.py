"""Virtual patients and trials simulated as trials are run.

A patient is a population of lesions (count, sizes, locations, rim or inactive), a cortical
follicle burden, new lesions and relapses as a stochastic process, ageing, and a disability
score measured with noise at visits. Lesion courses come from model runs through the narrow
``LesionTrajectories`` interface (trajectories.py): batched radial runs for white-matter lesions
(radial.py) and 2D section runs for the rest and the cortex (library.py), cached in one file
(cache.py) and interpolated in radius and age (radius_grid.py); parameter sets come from a
``ParameterDraws`` source (draws.py). docs/patients.md documents every choice and its source.
"""
