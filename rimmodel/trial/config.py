"""The trial TOML: a cohort of virtual lesions, treatment arms, and the base model config."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rimmodel.config import ConfigError
from rimmodel.config.loading import build_section
from rimmodel.config.overrides import apply_file_overrides
from rimmodel.config.spec import param
from rimmodel.config.treatment import TreatmentParameters


@dataclass
class Spread:
    """A parameter drawn per lesion: uniform in [low, high] or log-normal (median, sigma)."""

    kind: str = param("uniform", "-", "Distribution", choices=("uniform", "lognormal"))
    low: float = param(0.0, "as the parameter", "Uniform lower bound", low=-1e6, high=1e6)
    high: float = param(1.0, "as the parameter", "Uniform upper bound", low=-1e6, high=1e6)
    median: float = param(1.0, "as the parameter", "Log-normal median", low=1e-12, high=1e6)
    sigma: float = param(0.1, "1", "Log-normal shape (sd of the log)", low=0.0, high=5.0)


@dataclass
class Arm(TreatmentParameters):
    """A treatment arm: a named ``[treatment]`` regimen (drug, dose, interval, start, stop, adherence)."""

    name: str = param("arm", "-", "Arm label")


@dataclass
class TrialParameters:
    lesions: int = param(12, "-", "Virtual lesions in the cohort", low=1, high=10000)
    seed: int = param(2025, "-", "Seed of the cohort draws", low=0, high=2**31 - 1)
    years: float = param(4.0, "yr", "Follow-up of every lesion", low=0.1, high=100.0)
    progression_threshold: float = param(
        1.0, "1", "Progression proxy: an event when a lesion's axon loss divided by its initial lesion "
        "size (integral of 1 - a over A_0) first exceeds this", low=1e-6, high=100.0)
    bootstrap: int = param(2000, "-", "Bootstrap resamples for confidence intervals", low=100, high=100000)
    cohort: dict = param(None, "-", "Per-lesion spreads: config key -> Spread", factory=dict)
    arms: list[Arm] = param(None, "-", "Treatment arms (placebo is always added)", factory=list)
    model: dict = param(None, "-", "Base model config overrides (a [model] table in ModelConfig layout)",
                        factory=dict)


PLACEBO = "placebo"   # the implicit control arm every trial has
# An arm's name is a directory under --out/runs/lesion-<i>/: one path component, nothing special.
ARM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.,+()-]{0,63}")
ARM_NAME_RULE = ("1-64 characters: letters, digits, space and _ . , + ( ) -, starting with a letter or digit "
                 "(it names the arm's run directory)")


def load_trial(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> TrialParameters:
    """Read and validate a trial TOML: every lesion's and every arm's model config is checked here,
    before anything runs or is written."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"trial file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: not a readable UTF-8 TOML file: {' '.join(str(error).split())}") from None
    apply_file_overrides(raw, overrides, "trial", replaced={"time.end": "trial.years"})
    unknown = sorted(set(raw) - {"trial", "model"})
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown table in {path}; a trial file has [trial] and [model]")
    trial_raw = raw.get("trial", {})
    cohort = trial_raw.pop("cohort", {}) if isinstance(trial_raw, dict) else {}
    model = raw.get("model", {})
    trial = build_section(TrialParameters, trial_raw, prefix="trial.")
    if not isinstance(cohort, dict):
        raise ConfigError(f"trial.cohort: expected a table of config key -> spread, got {cohort!r}")
    trial.cohort = {key: _spread(key, spec) for key, spec in cohort.items()}
    if not isinstance(model, dict):
        raise ConfigError(f"model: expected a table in the model config layout, got {model!r}")
    trial.model = model
    _check_arms(trial.arms)
    _check_model_configs(trial)
    return trial


def _spread(key: str, raw) -> Spread:
    if len(key.split(".")) != 2 or not all(key.split(".")):
        raise ConfigError(f"trial.cohort.{key!r}: expected a model config key 'section.key', e.g. 'lesion.radius'")
    spread = build_section(Spread, raw, prefix=f"trial.cohort.{key}.")
    if spread.kind == "uniform" and spread.low > spread.high:
        raise ConfigError(f"trial.cohort.{key}.low = {spread.low:g} must not exceed high = {spread.high:g}")
    return spread


def _check_arms(arms: list[Arm]) -> None:
    if not arms:
        raise ConfigError("trial.arms: at least one treatment arm is needed ([[trial.arms]])")
    seen: dict[str, int] = {}
    for i, arm in enumerate(arms):
        if not ARM_NAME.fullmatch(arm.name):
            raise ConfigError(f"trial.arms[{i}].name = {arm.name!r} is not allowed: {ARM_NAME_RULE}")
        folded = arm.name.casefold()  # case-insensitive file systems would merge "A" and "a"
        if folded == PLACEBO:
            raise ConfigError(f"trial.arms[{i}].name = {arm.name!r} is reserved: every trial has a placebo arm "
                              f"already; name treatment arms after their regimen")
        if folded in seen:
            raise ConfigError(f"trial.arms[{i}].name = {arm.name!r} repeats trial.arms[{seen[folded]}].name "
                              f"(names are compared ignoring case): arm names must be unique")
        seen[folded] = i
        if arm.stop <= arm.start:
            raise ConfigError(f"trial.arms[{i}].stop = {arm.stop} must be after start = {arm.start} yr")


def _check_model_configs(trial: TrialParameters) -> None:
    """Every lesion's config under placebo, and every arm's with the first lesion (arms change only
    [treatment], lesions only their cohort keys)."""
    from rimmodel.trial.cohort import lesion_arm_config, sample_cohort

    lesions = sample_cohort(trial)
    for index, lesion in enumerate(lesions):
        try:
            lesion_arm_config(trial, lesion, None)
        except ConfigError as error:
            drawn = ", ".join(f"{key} = {value:.6g}" for key, value in lesion.items())
            raise ConfigError(f"[model] with lesion {index} ({drawn or 'no draws'}): {error}") from None
    for i, arm in enumerate(trial.arms):
        try:
            lesion_arm_config(trial, lesions[0], arm)
        except ConfigError as error:
            raise ConfigError(f"[model] with trial.arms[{i}] ({arm.name!r}): {error}") from None
