"""Virtual lesions: per-lesion parameter draws, and the model config of each lesion x arm."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np

from rimmodel.config import ModelConfig, config_from_dict
from rimmodel.trial.config import Arm, Spread, TrialParameters


def draw(spread: Spread, rng: np.random.Generator, size: int) -> np.ndarray:
    if spread.kind == "uniform":
        return rng.uniform(spread.low, spread.high, size)
    return spread.median * np.exp(spread.sigma * rng.standard_normal(size))


def sample_cohort(trial: TrialParameters) -> list[dict[str, float]]:
    """One {config key: value} per lesion, reproducible from the trial seed."""
    rng = np.random.default_rng(trial.seed)
    columns = {key: draw(spread, rng, trial.lesions) for key, spread in sorted(trial.cohort.items())}
    return [{key: float(values[i]) for key, values in columns.items()} for i in range(trial.lesions)]


def lesion_arm_config(trial: TrialParameters, lesion: dict[str, float], arm: Arm | None) -> ModelConfig:
    """Base model + this lesion's draws + the arm's regimen (None: placebo)."""
    raw = copy.deepcopy(trial.model)
    raw.setdefault("time", {})["end"] = trial.years
    raw.setdefault("output", {}).update(fields=False, progress=False)
    for dotted, value in lesion.items():
        section, key = dotted.split(".", 1)
        raw.setdefault(section, {})[key] = value
    if arm is not None:
        raw["treatment"] = {key: value for key, value in dataclasses.asdict(arm).items() if key != "name"}
    return config_from_dict(raw)
