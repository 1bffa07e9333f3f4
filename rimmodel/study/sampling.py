"""The sample matrix: SALib designs on the unit hypercube, mapped through each inverse CDF.

Sampling in unit space keeps one code path for every distribution; Sobol' and
Morris indices computed on the unit-space design are those of the physical
parameters, since each column is a monotone transform of its unit column.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from rimmodel.study.spec import Distribution, Study

_EDGE = 1e-12  # keeps normal quantiles finite if a design touches 0 or 1


def unit_problem(names: list[str]) -> dict:
    """The SALib problem definition in unit space."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def unit_design(study: Study) -> np.ndarray:
    """(runs, parameters) in [0, 1]; deterministic for a given study file."""
    settings, problem = study.parameters, unit_problem(study.names)
    if study.design is not None:
        return np.asarray(study.design, dtype=float)
    if settings.sampler == "saltelli":
        from SALib.sample import sobol

        return sobol.sample(problem, settings.samples, calc_second_order=settings.second_order,
                            seed=settings.seed)
    if settings.sampler == "morris":
        from SALib.sample import morris

        return morris.sample(problem, settings.samples, num_levels=settings.morris_levels, seed=settings.seed)
    if settings.sampler == "latin":
        from SALib.sample import latin

        return latin.sample(problem, settings.samples, seed=settings.seed)
    return _grid(study)


def _grid(study: Study) -> np.ndarray:
    axes = []
    for spread in study.distributions.values():
        if spread.distribution == "discrete":
            count = len(spread.values)
            axes.append((np.arange(count) + 0.5) / count)  # the centre of each value's bin
        else:
            axes.append(np.linspace(0.0, 1.0, study.parameters.samples))
    return np.array(list(itertools.product(*axes)), dtype=float).reshape(-1, len(axes))


def to_physical(spread: Distribution, unit: np.ndarray) -> list:
    """Map unit samples to parameter values (floats, or the listed discrete values)."""
    unit = np.clip(unit, _EDGE, 1.0 - _EDGE)
    kind = spread.distribution
    if kind == "uniform":
        return list(spread.low + unit * (spread.high - spread.low))
    if kind == "loguniform":
        return list(np.exp(math.log(spread.low) + unit * (math.log(spread.high) - math.log(spread.low))))
    if kind == "normal":
        from scipy.stats import norm

        return list(spread.mean + spread.std * norm.ppf(unit))
    index = np.minimum((unit * len(spread.values)).astype(int), len(spread.values) - 1)
    return [spread.values[i] for i in index]


def sample_values(study: Study, design: np.ndarray) -> list[dict]:
    """One ``{parameter: value}`` dict per run."""
    columns = {name: to_physical(spread, design[:, j])
               for j, (name, spread) in enumerate(study.distributions.items())}
    return [{name: _plain(values[i]) for name, values in columns.items()} for i in range(design.shape[0])]


def numeric_matrix(study: Study, samples: list[dict]) -> np.ndarray:
    """Parameter values as floats (a discrete non-numeric value becomes its index)."""
    matrix = np.empty((len(samples), len(study.names)))
    for j, (name, spread) in enumerate(study.distributions.items()):
        for i, sample in enumerate(samples):
            value = sample[name]
            matrix[i, j] = value if isinstance(value, (int, float)) else spread.values.index(value)
    return matrix


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value
