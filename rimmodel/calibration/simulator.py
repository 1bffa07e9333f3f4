"""What one calibration sample runs, on one study group's communicator.

``CohortRuns``: the quantile cohort of lesions for one parameter set (operators.py), every
lesion on the group's one ``Simulation`` (``reconfigure``: no recompilation), reduced to one
value per observation by its operator. ``AnalyticRuns``: an analytic check model. Both plug into
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

COHORT_MODEL, ANALYTIC_MODEL = "calibration-cohort", "calibration-analytic"


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
register_model(ANALYTIC_MODEL, AnalyticRuns)
