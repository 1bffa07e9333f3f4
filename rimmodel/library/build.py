"""``build_library``: run a study design with the batched radial model and store every trajectory.

The library is described by a study TOML (rimmodel.study.spec) whose model is the radial
lesion (``[model.geometry] kind = "spherical_lesion"``) and whose parameters are all uniform
or loguniform: their box is what the emulator interpolates over. Samples are split between
the ranks; each rank advances its share in batches of ``batch_size`` on its own communicator
(one rank per batch: the serial banded LU is much faster than a distributed solve of such
small systems). A batch that fails (a step below time.dt_min for one of its samples) is rerun
one sample at a time, so only the failing samples are lost, recorded with their reason.

The file layout is in rimmodel/library/layout.py.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

import h5py
import numpy as np

from rimmodel.config import ConfigError
from rimmodel.config.geometry_checks import RADIAL_KINDS
from rimmodel.library.layout import FORMAT, VERSION
from rimmodel.study.sampling import sample_values, unit_design
from rimmodel.study.spec import Study, model_config_for

BOX_DISTRIBUTIONS = ("uniform", "loguniform")


def check_library_study(study: Study) -> None:
    """A library needs the radial model and a box of uniform/loguniform parameters."""
    kind = study.model_config.get("geometry", {}).get("kind")
    if kind not in RADIAL_KINDS:
        raise ConfigError(f"model.geometry.kind = {kind!r}: a lesion library runs the radial model; "
                          f"set it to one of {RADIAL_KINDS}")
    for name, spread in study.distributions.items():
        if spread.distribution not in BOX_DISTRIBUTIONS:
            raise ConfigError(f"parameters.{name!r}: distribution {spread.distribution!r}; a library's "
                              f"emulator interpolates over a box: use one of {BOX_DISTRIBUTIONS}")


def build_library(study: Study, path: str | Path, comm, batch_size: int = 128, progress=None) -> Path:
    """Run every sample of ``study`` and write the library to ``path``. Collective.
    ``progress(done, total)`` is called on each rank after each of its batches."""
    from rimmodel.fem import MPI

    check_library_study(study)
    samples = sample_values(study, unit_design(study))
    mine = list(range(comm.rank, len(samples), comm.size))
    runner = _ChunkRunner(study, samples, MPI.COMM_SELF)
    local, problem = {}, ""
    try:
        for start in range(0, len(mine), batch_size):
            local.update(runner(mine[start:start + batch_size]))
            if progress is not None:
                progress(len(local), len(mine))
    except Exception as failure:  # noqa: BLE001 - every rank must reach the gather, or the others wait forever
        problem = f"rank {comm.rank}: {type(failure).__name__}: {failure}"
    gathered = comm.gather((local, problem), root=0)
    path = Path(path)
    if comm.rank == 0:
        problem = "; ".join(p for _, p in gathered if p)
        if not problem:
            try:
                _write(path, study, samples, {i: outcome for part, _ in gathered for i, outcome in part.items()})
            except Exception as failure:  # noqa: BLE001 - the other ranks wait for the verdict
                problem = f"rank 0: {type(failure).__name__}: {failure}"
    problem = comm.bcast(problem if comm.rank == 0 else None, root=0)
    if problem:
        raise RuntimeError(f"library build failed, {path} not written: {problem}")
    return path


class _ChunkRunner:
    """Runs chunks of samples as batches (rimmodel.batch.pool)."""

    def __init__(self, study: Study, samples: list[dict], comm):
        from rimmodel.batch.pool import BatchPool

        self.study, self.samples = study, samples
        self.pool = BatchPool(comm)

    def __call__(self, indices: list[int]) -> dict[int, tuple]:
        """index -> (times, {series: values}, "") or (None, None, reason)."""
        configs = [model_config_for(self.study, self.samples[i], context=f"sample {i}") for i in indices]
        return {i: (o.times, o.series, o.reason) for i, o in zip(indices, self.pool.run(configs))}


def _write(path: Path, study: Study, samples: list[dict], outcomes: dict[int, tuple]) -> None:
    from rimmodel.batch.observables import PART_SERIES

    times = next((o[0] for o in outcomes.values() if o[0] is not None), None)
    if times is None:
        raise RuntimeError("every library sample failed; nothing to write")
    names = study.names
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(partial, "w") as h5:
        h5.attrs.update(format=FORMAT, version=VERSION, study=study.source,
                        created=datetime.datetime.now().isoformat(timespec="seconds"))
        parameters = h5.create_dataset("parameters", data=np.array([[s[n] for n in names] for s in samples], float))
        spreads = study.distributions.values()
        parameters.attrs.update(names=json.dumps(names), distributions=json.dumps([s.distribution for s in spreads]),
                                low=json.dumps([s.low for s in spreads]), high=json.dumps([s.high for s in spreads]))
        h5.create_dataset("times", data=times).attrs["units"] = "yr"
        group = h5.create_group("series")
        for name, unit in PART_SERIES.items():
            values = np.full((len(samples), times.size), np.nan)
            for index, (_, series, _) in outcomes.items():
                if series is not None:
                    values[index] = series[name]
            group.create_dataset(name, data=values).attrs["units"] = unit
        h5.create_dataset("status", data=np.array(["completed" if outcomes[i][1] is not None else "failed"
                                                   for i in range(len(samples))], dtype="S9"))
        reasons = [outcomes[i][2] for i in range(len(samples))]
        h5.create_dataset("reason", data=np.array(reasons, dtype=h5py.string_dtype()))
    os.replace(partial, path)
