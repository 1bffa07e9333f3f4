"""The study TOML: a base model config, parameter distributions, a sampler and what to keep.

    [study]
    sampler = "saltelli"        # latin | saltelli | morris | grid
    samples = 16                # base sample count N (see SAMPLERS for how many runs that makes)
    seed = 1
    ranks_per_run = 1
    observables = ["lesion_equivalent_radius", "rim_thickness"]

    [model]                     # the base ModelConfig (any section), on top of `base` if given
    time.end = 2.0

    [parameters."microglia.chemotactic_sensitivity"]
    distribution = "uniform"
    low = 0.05
    high = 0.2

Everything is validated here, before any run starts: parameter names must be
model config keys, and every distribution's support must lie inside that key's
documented range.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from rimmodel.config import ConfigError, config_from_dict
from rimmodel.config.loading import build_section, set_dotted
from rimmodel.config.overrides import apply_file_overrides, overrides_comment
from rimmodel.config.spec import param

SAMPLERS = {
    "latin": "Latin hypercube: N runs",
    "saltelli": "Sobol' sequence with Saltelli's scheme: N (2D + 2) runs (N (D + 2) without second order)",
    "morris": "Morris trajectories: N (D + 1) runs",
    "grid": "full factorial grid: N levels per continuous parameter, every value of a discrete one",
}
MODELS = ("rimmodel", "ishigami")


@dataclass
class StudyParameters:
    model: str = param("rimmodel", "-", "What each sample runs: the FEM model, or the Ishigami test function "
                       "(analytical Sobol indices, for checking the pipeline)", choices=MODELS)
    base: str = param("", "-", "Base model config TOML, relative to the study file ('' for the defaults)")
    sampler: str = param("saltelli", "-", "Sampling design", choices=tuple(SAMPLERS))
    samples: int = param(16, "-", "Base sample count N (saltelli: a power of 2)", low=1, high=1_000_000)
    second_order: bool = param(False, "-", "Saltelli: also sample for second-order Sobol indices")
    morris_levels: int = param(4, "-", "Morris grid levels", low=2, high=100)
    seed: int = param(1, "-", "Seed of the sampler", low=0, high=2**31 - 1)
    ranks_per_run: int = param(1, "-", "MPI ranks per model run (COMM_WORLD is split into groups of this size)",
                               low=1, high=100_000)
    observables: list[str] = param(None, "-", "Observable time series kept per sample ('y' for ishigami)",
                              factory=list)
    keep_runs: bool = param(True, "-", "Keep each sample's run directory (config + observables.h5)")


@dataclass
class Distribution:
    """One sampled parameter. Unit-interval samples u are mapped through the inverse CDF."""

    distribution: str = param("uniform", "-", "Distribution",
                              choices=("uniform", "loguniform", "normal", "discrete", "fixed"))
    low: float = param(math.nan, "as the parameter", "uniform/loguniform lower bound")
    high: float = param(math.nan, "as the parameter", "uniform/loguniform upper bound")
    mean: float = param(math.nan, "as the parameter", "normal mean")
    std: float = param(math.nan, "as the parameter", "normal standard deviation", low=0.0)
    values: list[object] = param(None, "as the parameter", "discrete values (equally likely)", factory=list)
    value: object = param(None, "as the parameter", "fixed value")


@dataclass
class Study:
    parameters: StudyParameters
    distributions: dict[str, Distribution]   # sampled ones, in file order
    fixed: dict[str, object]                 # distribution = "fixed"
    model_config: dict = field(default_factory=dict)  # raw base config (ModelConfig layout)
    source: str = ""                         # the study TOML text, kept for provenance
    design: object = None                    # explicit unit-space design (runs x D) set by a caller, e.g.
                                             # a calibration wave; None: the sampler draws it

    @property
    def names(self) -> list[str]:
        return list(self.distributions)


def load_study(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Study:
    """Read and validate a study TOML; ``overrides`` are ``--set`` items (``study.KEY=VALUE`` or model keys)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: not a readable UTF-8 TOML file: {' '.join(str(error).split())}") from None
    apply_file_overrides(raw, overrides, "study")
    text += overrides_comment(overrides)  # the kept copy says how this study differs from its file
    unknown = set(raw) - {"study", "model", "parameters"}
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {sorted(unknown)}; expected [study], [model], [parameters.*]")
    for table in ("model", "parameters"):
        if not isinstance(raw.get(table, {}), dict):
            raise ConfigError(f"{table}: expected a table ([{table}] or [{table}.*]) in {path}, got {raw[table]!r}")
    settings = build_section(StudyParameters, raw.get("study", {}), prefix="study.")
    model_config = _base_config(path, settings, raw.get("model", {}))
    distributions, fixed = {}, {}
    for name, table in raw.get("parameters", {}).items():
        spread = build_section(Distribution, table, prefix=f"parameters.{name}.")
        _check_distribution(name, spread)
        if spread.distribution == "fixed":
            fixed[name] = spread.value
        else:
            distributions[name] = spread
    study = Study(settings, distributions, fixed, model_config, text)
    _check_against_model(study)
    return study


def _base_config(path: Path, settings: StudyParameters, inline: dict) -> dict:
    """Study defaults (no field files, progress bars or checkpoints: a study resumes per sample),
    then ``base``, then ``[model]``."""
    raw: dict = {"output": {"fields": False, "progress": False, "checkpoints": False}}
    layers = [inline]
    if settings.base:
        base = (path.parent / settings.base).resolve()
        try:
            layers.insert(0, tomllib.loads(base.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"study.base: {base}: not a readable UTF-8 TOML file: "
                              f"{' '.join(str(error).split())}") from None
    for layer, where in zip(layers, ["study.base", "model"][-len(layers):]):
        for section, values in layer.items():
            if not isinstance(values, dict):
                raise ConfigError(f"{where}.{section}: expected a table")
            raw.setdefault(section, {}).update(values)
    return raw


def _check_distribution(name: str, spread: Distribution) -> None:
    key = f"parameters.{name!r}"
    kind = spread.distribution
    if kind in ("uniform", "loguniform"):
        if not (math.isfinite(spread.low) and math.isfinite(spread.high) and spread.low < spread.high):
            raise ConfigError(f"{key}: {kind} needs finite low < high, got low={spread.low}, high={spread.high}")
        if kind == "loguniform" and spread.low <= 0:
            raise ConfigError(f"{key}: loguniform needs low > 0, got {spread.low}")
    elif kind == "normal":
        if not (math.isfinite(spread.mean) and math.isfinite(spread.std) and spread.std > 0):
            raise ConfigError(f"{key}: normal needs a finite mean and std > 0")
    elif kind == "discrete" and len(spread.values) < 1:
        raise ConfigError(f"{key}: discrete needs a non-empty list `values`")
    elif kind == "fixed" and spread.value is None:
        raise ConfigError(f"{key}: fixed needs `value`")


def _check_against_model(study: Study) -> None:
    settings = study.parameters
    if settings.model == "ishigami":
        bad = set(study.distributions) - {"x1", "x2", "x3"}
        if bad or len(study.distributions) != 3:
            raise ConfigError("parameters: the ishigami model takes exactly x1, x2, x3")
        settings.observables = settings.observables or ["y"]
        return
    if not study.distributions:
        raise ConfigError("parameters: a study needs at least one sampled parameter")
    if settings.sampler == "saltelli" and settings.samples & (settings.samples - 1):
        raise ConfigError(f"study.samples = {settings.samples}: saltelli needs a power of 2")
    from rimmodel.observables import SCALAR_UNITS

    settings.observables = settings.observables or ["lesion_equivalent_radius"]
    for name in settings.observables:
        if name not in SCALAR_UNITS:
            raise ConfigError(f"study.observables: unknown {name!r}; one of {', '.join(SCALAR_UNITS)}")
    # every extreme of every distribution must make a valid model config
    for name, spread in study.distributions.items():
        for value in extremes(spread):
            model_config_for(study, {name: value}, context=f"parameters.{name!r} at {value!r}")
    model_config_for(study, {}, context="[model] with the fixed parameters")


def extremes(spread: Distribution) -> list:
    if spread.distribution == "discrete":
        return list(spread.values)
    if spread.distribution == "normal":
        return [spread.mean]  # unbounded: values are range-checked per sample, failures recorded
    return [spread.low, spread.high]


def model_config_for(study: Study, values: dict, context: str = "sample"):
    """The validated ModelConfig of one sample (base + fixed + sampled values)."""
    raw = _deep_copy(study.model_config)
    for name, value in (study.fixed | values).items():
        set_dotted(raw, name, value)
    try:
        return config_from_dict(raw)
    except ConfigError as error:
        raise ConfigError(f"{context}: {error}") from error


def _deep_copy(raw: dict) -> dict:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in raw.items()}
