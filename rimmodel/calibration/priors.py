"""Priors on the calibrated parameters, as the study machinery's distributions.

Everything is sampled and inferred in the prior's unit space u in [0, 1]^d (each coordinate
is the prior CDF of its parameter), so the prior density there is uniform and the study's
designs and ``to_physical`` map points to parameter values unchanged. A parameter without an
explicit range gets a log-uniform prior over its declared default / 4 .. default * 4, clipped
to the range the parameter declaration allows (``rimmodel parameters``).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from rimmodel.config import ConfigError
from rimmodel.study.sampling import _EDGE
from rimmodel.study.spec import Distribution

PRIOR_KINDS = ("uniform", "loguniform", "normal")
DEFAULT_SPAN = 4.0  # default prior: default / 4 .. default * 4


@dataclasses.dataclass
class Prior:
    name: str
    distribution: Distribution
    source: str               # where its bounds came from

    def to_physical(self, unit: np.ndarray) -> np.ndarray:
        """As the study's mapping (``rimmodel.study.sampling.to_physical``), vectorised for MCMC."""
        d, unit = self.distribution, np.clip(np.asarray(unit, dtype=float), _EDGE, 1.0 - _EDGE)
        if d.distribution == "uniform":
            return d.low + unit * (d.high - d.low)
        if d.distribution == "loguniform":
            return np.exp(math.log(d.low) + unit * (math.log(d.high) - math.log(d.low)))
        from scipy.special import ndtri

        return d.mean + d.std * ndtri(unit)

    def to_unit(self, value: np.ndarray) -> np.ndarray:
        d, value = self.distribution, np.asarray(value, dtype=float)
        if d.distribution == "uniform":
            return (value - d.low) / (d.high - d.low)
        if d.distribution == "loguniform":
            return (np.log(value) - math.log(d.low)) / (math.log(d.high) - math.log(d.low))
        from scipy.stats import norm

        return norm.cdf(value, d.mean, d.std)

    def describe(self) -> str:
        d = self.distribution
        if d.distribution == "normal":
            return f"normal(mean {d.mean:g}, sd {d.std:g})"
        return f"{d.distribution}[{d.low:g}, {d.high:g}]"


def declared_spec(key: str):
    """(default, Spec) of a model config key ``section.name``, or None if it is not one."""
    from rimmodel.config.parameters import ModelConfig

    section, _, name = key.partition(".")
    sections = {f.name: f for f in dataclasses.fields(ModelConfig)}
    if section not in sections:
        return None
    for item in dataclasses.fields(sections[section].default_factory):
        if item.name == name and "spec" in item.metadata:
            default = getattr(sections[section].default_factory(), name)
            return default, item.metadata["spec"]
    return None


def build_prior(key: str, table: dict, model_keys: bool = True) -> Prior:
    """A prior from its TOML table (``prior``, ``low``, ``high`` / ``mean``, ``std``)."""
    where = f"parameters.{key!r}"
    unknown = set(table) - {"prior", "low", "high", "mean", "std", "source"}
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: prior, low, high, mean, std, source")
    kind = table.get("prior", "loguniform" if "low" not in table else "uniform")
    if kind not in PRIOR_KINDS:
        raise ConfigError(f"{where}: prior = {kind!r}; allowed: {', '.join(PRIOR_KINDS)}")
    declared = declared_spec(key) if model_keys else None
    if model_keys and declared is None and not key.startswith("cohort."):
        raise ConfigError(f"{where}: not a model config key (see `rimmodel parameters`)")
    source = table.get("source", "")
    if kind == "normal":
        if not ("mean" in table and "std" in table and table["std"] > 0):
            raise ConfigError(f"{where}: a normal prior needs mean and std > 0")
        spread = Distribution(distribution="normal", mean=float(table["mean"]), std=float(table["std"]))
        return Prior(key, spread, source or "given")
    if "low" in table or "high" in table:
        low, high = float(table.get("low", math.nan)), float(table.get("high", math.nan))
        source = source or "given"
    elif declared is not None and isinstance(declared[0], (int, float)) and declared[0] > 0:
        low, high = declared[0] / DEFAULT_SPAN, declared[0] * DEFAULT_SPAN
        spec = declared[1]
        low, high = max(low, spec.low), min(high, spec.high)
        source = source or f"default {declared[0]:g} / {DEFAULT_SPAN:g} .. x {DEFAULT_SPAN:g} (declared: {spec.source})"
    else:
        raise ConfigError(f"{where}: give low and high (no positive declared default to centre a prior on)")
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ConfigError(f"{where}: need finite low < high, got low={low}, high={high}")
    if kind == "loguniform" and low <= 0:
        raise ConfigError(f"{where}: loguniform needs low > 0, got {low}")
    if declared is not None:
        spec = declared[1]
        if low < spec.low or high > spec.high:
            raise ConfigError(f"{where}: prior [{low:g}, {high:g}] leaves the declared range "
                              f"[{spec.low:g}, {spec.high:g}] {spec.unit}")
    return Prior(key, Distribution(distribution=kind, low=low, high=high), source)


def to_physical(priors: list[Prior], unit: np.ndarray) -> np.ndarray:
    unit = np.atleast_2d(unit)
    return np.column_stack([p.to_physical(unit[:, j]) for j, p in enumerate(priors)])


def to_unit(priors: list[Prior], values: np.ndarray) -> np.ndarray:
    values = np.atleast_2d(values)
    return np.column_stack([p.to_unit(values[:, j]) for j, p in enumerate(priors)])
