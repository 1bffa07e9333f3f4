"""``BatchPool``: run lists of radial lesion configs as batches, losing only the samples that fail.

A batch of a size seen before is reused with ``reconfigure`` (no new mesh, no recompilation).
A batch shares its time steps, so one sample that drives the step below ``time.dt_min`` fails
the whole batch: it is then rerun one sample at a time and only the failing samples are lost,
each with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rimmodel.config import ConfigError


@dataclass
class PartOutcome:
    """One sample of a batch: its output times and series (``PART_SERIES``), or why it failed."""

    times: np.ndarray | None
    series: dict[str, np.ndarray] | None
    reason: str = ""

    @property
    def completed(self) -> bool:
        return self.series is not None


class BatchPool:
    def __init__(self, comm):
        self.comm = comm
        self.batches = {}

    def run(self, configs: list) -> list[PartOutcome]:
        """Every config's outcome, in order. Collective on ``comm``."""
        from rimmodel.solver.time_loop import SolverFailure

        try:
            return self._run(configs)
        except SolverFailure as failure:
            if len(configs) == 1:
                return [PartOutcome(None, None, str(failure))]
        return [self._single(config) for config in configs]  # find the sample(s) that failed

    def _single(self, config) -> PartOutcome:
        from rimmodel.solver.time_loop import SolverFailure

        try:
            return self._run([config])[0]
        except SolverFailure as failure:
            return PartOutcome(None, None, str(failure))

    def _run(self, configs: list) -> list[PartOutcome]:
        from rimmodel.batch.runner import RadialBatch

        batch = self.batches.get(len(configs))
        try:
            if batch is None:
                raise ConfigError("no batch of this size yet")
            batch.reconfigure(configs)
        except ConfigError:  # first of its size, or a setting that changes the mesh
            batch = self.batches[len(configs)] = RadialBatch(configs, self.comm)
        result = batch.run()
        return [PartOutcome(result.times, {name: values[k] for name, values in result.series.items()})
                for k in range(len(configs))]
