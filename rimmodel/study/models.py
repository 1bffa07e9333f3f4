"""What one sample runs, on one group's communicator.

``RimModelRuns`` builds one ``Simulation`` per group and switches parameter
values with ``reconfigure`` (no recompilation); it builds a new one only when a
sample changes the mesh or the solver. Forms come from the on-disk JIT cache,
so compilation is paid once per study, not once per run.
"""

from __future__ import annotations

import time
from pathlib import Path

from rimmodel.config import ConfigError
from rimmodel.study.ishigami import ishigami
from rimmodel.study.journal import SampleOutcome, worker_name
from rimmodel.study.spec import Study, model_config_for

RUNS_DIR = "runs"
SCRATCH_DIR = "scratch"
# a failure of one sample that the study records and moves past (all collective, so every rank of
# the group raises it together); anything else is a bug and stops the study
SAMPLE_FAILURES = (ConfigError, FloatingPointError)


class IshigamiRuns:
    def __init__(self, study: Study, comm, study_dir: Path, group: int):
        self.comm = comm

    def evaluate(self, index: int, values: dict) -> SampleOutcome:
        started = time.perf_counter()
        y = ishigami(values["x1"], values["x2"], values["x3"])
        return SampleOutcome(index, "completed", time=[0.0], series={"y": [y]},
                             wall_s=time.perf_counter() - started, ranks=self.comm.size, units={"y": "1"})


class RimModelRuns:
    def __init__(self, study: Study, comm, study_dir: Path, group: int):
        self.study, self.comm, self.study_dir, self.group = study, comm, Path(study_dir), group
        self.scratch = comm.bcast(worker_name(group) if comm.rank == 0 else None, root=0)  # this process's own
        self.simulation = None
        self.builds = 0  # Simulations built by this group (1 unless samples change the mesh)

    def evaluate(self, index: int, values: dict) -> SampleOutcome:
        from rimmodel.solver.time_loop import SolverFailure

        started = time.perf_counter()
        try:
            config = model_config_for(self.study, values, context=f"sample {index}")
            self._prepare(config)
            record = self.simulation.run(self._run_dir(index), overwrite=True)
        except (SolverFailure, *SAMPLE_FAILURES) as failure:
            return SampleOutcome(index, "failed", reason=str(failure), wall_s=time.perf_counter() - started,
                                 ranks=self.comm.size)
        series = {name: [float(v) for v in record.series[name]] for name in self.study.parameters.observables}
        return SampleOutcome(index, "completed", time=[float(t) for t in record.time], series=series,
                             wall_s=time.perf_counter() - started, ranks=self.comm.size,
                             units={name: record.units.get(name, "") for name in series})

    def _prepare(self, config) -> None:
        from rimmodel.simulation import Simulation

        if self.simulation is not None:
            try:
                self.simulation.reconfigure(config)
                return
            except ConfigError:
                pass  # a sampled mesh or solver setting: build anew
        self.simulation = Simulation(config, self.comm)
        self.builds += 1

    def _run_dir(self, index: int) -> Path:
        if self.study.parameters.keep_runs:
            return self.study_dir / RUNS_DIR / f"sample-{index:06d}"
        return self.study_dir / SCRATCH_DIR / self.scratch  # reused run after run


MODELS = {"rimmodel": RimModelRuns, "ishigami": IshigamiRuns}


def register_model(name: str, runs_class) -> None:
    """Let another package run its own kind of sample through ``run_study`` (calibration's
    cohort evaluations): ``runs_class(study, comm, study_dir, group).evaluate(index, values)``, or,
    for a class with ``chunk = n``, ``evaluate_chunk(indices, values)`` on up to n samples at once."""
    MODELS[name] = runs_class
