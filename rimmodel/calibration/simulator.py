"""What one calibration sample runs, on one study group's communicator.

``CohortRuns``: the quantile cohort of lesions for one parameter set (operators.py), every
lesion on the group's one ``Simulation`` (``reconfigure``: no recompilation), reduced to one
value per observation by its operator. ``RadialCohortRuns``: the same cohorts as isolated
spherical lesions, the cohorts of ``calibration.batch`` samples advanced together as one radial
batch (rimmodel.batch). ``AnalyticRuns``: an analytic check model. All plug into
``rimmodel.study.runner.run_study`` (MPI groups, journals, resume) through ``register_model``.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from rimmodel.calibration.analytic import ANALYTIC_MODELS
from rimmodel.calibration.operators import LesionRun, apply, cohort_quantiles
from rimmodel.config import ConfigError, config_from_dict
from rimmodel.config.loading import set_dotted
from rimmodel.study.journal import SampleOutcome
from rimmodel.study.models import SAMPLE_FAILURES, register_model

COHORT_MODEL, RADIAL_MODEL, ANALYTIC_MODEL = "calibration-cohort", "calibration-radial", "calibration-analytic"
STUDY_MODELS = {"rimmodel": COHORT_MODEL, "radial": RADIAL_MODEL, "analytic": ANALYTIC_MODEL}


def lesion_configs(calibration, values: dict, context: str = "sample") -> list[tuple[float, object]]:
    """(z, ModelConfig) of each cohort lesion for one parameter set."""
    cohort = calibration.cohort
    sigma = float(values.get("cohort.heterogeneity", cohort.heterogeneity))
    model_values = {k: v for k, v in values.items() if not k.startswith("cohort.")}
    configs = []
    for z in cohort_quantiles(cohort.lesions):
        raw = _deep_copy(calibration.model_config)
        raw.setdefault("time", {})["end"] = cohort.years
        for name, value in model_values.items():
            set_dotted(raw, name, value)
        base = _lookup(raw, cohort.varies)
        set_dotted(raw, cohort.varies, base * math.exp(sigma * z))
        try:
            configs.append((float(z), config_from_dict(raw)))
        except ConfigError as error:
            raise ConfigError(f"{context}, lesion at z = {z:+.2f}: {error}") from error
    return configs


def _lookup(raw: dict, dotted: str) -> float:
    from rimmodel.calibration.priors import declared_spec

    section, _, key = dotted.partition(".")
    if key in raw.get(section, {}):
        return float(raw[section][key])
    return float(declared_spec(dotted)[0])


def _deep_copy(raw: dict) -> dict:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in raw.items()}


class CohortRuns:
    def __init__(self, study, comm, study_dir: Path, group: int):
        self.calibration = study.calibration
        self.comm, self.scratch = comm, Path(study_dir) / "scratch" / f"group-{group:05d}"
        self.simulation = None

    def evaluate(self, index: int, values: dict) -> SampleOutcome:
        from rimmodel.solver.time_loop import SolverFailure

        started = time.perf_counter()
        try:
            cohort = [self._run(z, config) for z, config in lesion_configs(self.calibration, values,
                                                                          context=f"sample {index}")]
            series = {o.id: [apply(o.operator, cohort, o.arguments)] for o in self.calibration.outputs}
        except (SolverFailure, ValueError, *SAMPLE_FAILURES) as failure:
            return SampleOutcome(index, "failed", reason=str(failure), wall_s=time.perf_counter() - started,
                                 ranks=self.comm.size)
        return SampleOutcome(index, "completed", time=[0.0], series=series, wall_s=time.perf_counter() - started,
                             ranks=self.comm.size)

    def _run(self, z: float, config) -> LesionRun:
        from rimmodel.simulation import Simulation

        if self.simulation is None:
            self.simulation = Simulation(config, self.comm)
        else:
            self.simulation.reconfigure(config)
        record = self.simulation.run(self.scratch, overwrite=True)
        return LesionRun(z, np.asarray(record.time), {k: np.asarray(v) for k, v in record.series.items()})


class RadialCohortRuns:
    """Cohorts of up to ``chunk`` samples in one batch: one mesh and one time loop for all their lesions."""

    def __init__(self, study, comm, study_dir: Path, group: int):
        from rimmodel.batch.pool import BatchPool

        self.calibration, self.comm = study.calibration, comm
        self.chunk = self.calibration.settings.batch
        self.pool = BatchPool(comm)

    def evaluate_chunk(self, indices: list[int], samples: list[dict]) -> list[SampleOutcome]:
        started = time.perf_counter()
        cohorts, problems = {}, {}
        for index, values in zip(indices, samples):
            try:
                cohorts[index] = lesion_configs(self.calibration, values, context=f"sample {index}")
            except SAMPLE_FAILURES as failure:
                problems[index] = str(failure)
        configs = [config for cohort in cohorts.values() for _, config in cohort]
        outcomes = iter(self.pool.run(configs) if configs else [])
        runs = {index: [(z, next(outcomes)) for z, _ in cohort] for index, cohort in cohorts.items()}
        wall = (time.perf_counter() - started) / len(indices)  # a batch's time, shared by its samples
        return [self._outcome(index, runs.get(index), problems.get(index, ""), wall) for index in indices]

    def _outcome(self, index: int, lesions: list | None, problem: str, wall: float) -> SampleOutcome:
        failed = next((o.reason for _, o in lesions or [] if not o.completed), problem)
        if lesions is None or failed:
            return SampleOutcome(index, "failed", reason=failed, wall_s=wall, ranks=self.comm.size)
        cohort = [LesionRun(z, o.times, o.series) for z, o in lesions]
        try:
            series = {o.id: [apply(o.operator, cohort, o.arguments)] for o in self.calibration.outputs}
        except ValueError as failure:
            return SampleOutcome(index, "failed", reason=str(failure), wall_s=wall, ranks=self.comm.size)
        return SampleOutcome(index, "completed", time=[0.0], series=series, wall_s=wall, ranks=self.comm.size)


class AnalyticRuns:
    def __init__(self, study, comm, study_dir: Path, group: int):
        self.calibration, self.comm = study.calibration, comm
        self.function = ANALYTIC_MODELS[self.calibration.settings.model]

    def evaluate(self, index: int, values: dict) -> SampleOutcome:
        started = time.perf_counter()
        found = self.function(values)
        series = {o.id: [found[o.arguments.get("output", o.id)]] for o in self.calibration.outputs}
        return SampleOutcome(index, "completed", time=[0.0], series=series, wall_s=time.perf_counter() - started,
                             ranks=self.comm.size)


register_model(COHORT_MODEL, CohortRuns)
register_model(RADIAL_MODEL, RadialCohortRuns)
register_model(ANALYTIC_MODEL, AnalyticRuns)
