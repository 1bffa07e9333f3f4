"""Run every virtual lesion under placebo and every arm, on one mesh with one set of compiled forms."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from rimmodel.config import ConfigError
from rimmodel.io.results import RunRecord
from rimmodel.simulation import Simulation
from rimmodel.trial.cohort import lesion_arm_config, sample_cohort
from rimmodel.trial.config import PLACEBO, TrialParameters
from rimmodel.trial.statistics import LesionOutcome



def lesion_outcome(record: RunRecord, threshold: float) -> LesionOutcome:
    time = np.asarray(record.time)
    radius = np.asarray(record.series["lesion_equivalent_radius"])
    axon_loss = np.asarray(record.series["axon_loss"])
    normalised = axon_loss / max(record.series["lesion_size"][0], 1e-12)
    crossed = np.flatnonzero(normalised >= threshold)
    return LesionOutcome(
        expansion_rate=float(np.polyfit(time, radius, 1)[0]),
        sel_volume_change=4.0 / 3.0 * math.pi * (radius[-1] ** 3 - radius[0] ** 3),
        axon_loss=float(axon_loss[-1]),
        event_time=float(time[crossed[0]]) if crossed.size else None,
        mean_cns_occupancy=float(np.mean(record.btk["cns"])))


def arm_run_dir(out_dir: Path, lesion: int, arm: str) -> Path:
    """Where one lesion x arm runs: always inside ``out_dir`` (arm names are checked in load_trial;
    this refuses anything else that would resolve outside)."""
    runs = Path(out_dir) / "runs"
    path = runs / f"lesion-{lesion:03d}" / arm
    if path.resolve().parent != (runs / f"lesion-{lesion:03d}").resolve():
        raise ConfigError(f"trial arm name {arm!r} would write outside {runs}")
    return path


def run_trial(trial: TrialParameters, out_dir: Path, comm) -> dict[str, list[LesionOutcome]]:
    """Outcomes per arm, one per lesion in cohort order. Collective."""
    arms = {PLACEBO: None} | {arm.name: arm for arm in trial.arms}
    outcomes: dict[str, list[LesionOutcome]] = {name: [] for name in arms}
    simulation = None
    for index, lesion in enumerate(sample_cohort(trial)):
        for name, arm in arms.items():
            config = lesion_arm_config(trial, lesion, arm)
            if simulation is None:
                simulation = Simulation(config, comm)
            else:
                simulation.reconfigure(config)
            record = simulation.run(arm_run_dir(out_dir, index, name), overwrite=True)
            outcomes[name].append(lesion_outcome(record, trial.progression_threshold))
    return outcomes
