"""The trial TOML: a cohort of virtual lesions, treatment arms, and the base model config."""

from __future__ import annotations

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


def load_trial(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> TrialParameters:
    try:
        raw = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from error
    apply_file_overrides(raw, overrides, "trial", replaced={"time.end": "trial.years"})
    trial_raw = raw.get("trial", {})
    cohort = trial_raw.pop("cohort", {}) if isinstance(trial_raw, dict) else {}
    model = raw.get("model", {})
    trial = build_section(TrialParameters, trial_raw, prefix="trial.")
    trial.cohort = {key: build_section(Spread, spec, prefix=f"trial.cohort.{key}.") for key, spec in cohort.items()}
    trial.model = model
    if not trial.arms:
        raise ConfigError("trial.arms: at least one treatment arm is needed ([[trial.arms]])")
    for i, arm in enumerate(trial.arms):
        if arm.stop <= arm.start:
            raise ConfigError(f"trial.arms[{i}].stop = {arm.stop} must be after start = {arm.start} yr")
    return trial
