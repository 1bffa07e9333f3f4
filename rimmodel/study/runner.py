"""``run_study``: every pending sample once, recorded as it finishes, then one results file.

Rerunning the same command on the same directory continues where a killed
study stopped: samples in the journal are not run again; the final file is
built from the journals in sample order, so it does not depend on which group
ran what or how often the study was restarted.
"""

from __future__ import annotations

import os
from pathlib import Path

import tomli_w

from rimmodel.config import ConfigError
from rimmodel.fem import MPI
from rimmodel.study.journal import Journal, read_outcomes
from rimmodel.study.models import MODELS
from rimmodel.study.results import RESULTS_FILE, write_results
from rimmodel.study.sampling import sample_values, unit_design
from rimmodel.study.scheduler import FAILED, FINISHED, NEXT, Progress, SharedCounters, split_into_groups
from rimmodel.study.spec import Study

STUDY_COPY = "study.toml"
BASE_COPY = "base_config.toml"  # the resolved base model config every sample starts from


def run_study(study: Study, study_dir: str | Path, comm=MPI.COMM_WORLD, progress: bool = True,
              part: tuple[int, int] = (0, 1), collect: bool = True) -> Path:
    """Run (or continue) a study in ``study_dir``; returns the results file. Collective.

    ``part = (k, n)`` runs only samples with index % n == k (task k of a Slurm job array);
    ``collect`` writes the results file from every journal at the end.
    """
    study_dir = Path(study_dir)
    group_comm, group, _ = split_into_groups(comm, study.parameters.ranks_per_run)
    design, samples, pending = _prepare(study, study_dir, comm)
    pending = [index for index in pending if index % part[1] == part[0]]
    counters = SharedCounters(comm)
    model = MODELS[study.parameters.model](study, group_comm, study_dir, group)
    leader = group_comm.rank == 0
    journal = Journal(study_dir, group) if leader else None
    meter = Progress(len(samples), len(samples) - len(pending), len(pending)) if progress and leader else None
    try:
        while True:
            slot = group_comm.bcast(counters.add(NEXT) if leader else None, root=0)
            if slot >= len(pending):
                break
            index = pending[slot]
            outcome = model.evaluate(index, samples[index])
            if leader:
                outcome.group = group
                journal.append(outcome)
                failed = counters.add(FAILED, outcome.status != "completed") + (outcome.status != "completed")
                finished = counters.add(FINISHED) + 1
                if meter is not None:
                    meter.report(finished, failed, index, outcome.status)
    finally:
        counters.free()
        group_comm.Free()
    results = study_dir / RESULTS_FILE
    if comm.rank == 0 and collect:
        write_results(results, study, design, samples, read_outcomes(study_dir))
    comm.Barrier()
    return results


def collect_study(study: Study, study_dir: str | Path) -> Path:
    """Write the results file from the journals without running anything (pending stays pending)."""
    study_dir = Path(study_dir)
    _claim_directory(study, study_dir)
    design = unit_design(study)
    write_results(study_dir / RESULTS_FILE, study, design, sample_values(study, design), read_outcomes(study_dir))
    return study_dir / RESULTS_FILE


def _prepare(study: Study, study_dir: Path, comm):
    """The design (rank 0 computes, all receive), and the samples not yet in any journal."""
    error, payload = None, None
    if comm.rank == 0:
        try:
            _claim_directory(study, study_dir)
            design = unit_design(study)
            samples = sample_values(study, design)
            done = read_outcomes(study_dir)
            payload = (design, samples, [i for i in range(len(samples)) if i not in done])
        except ConfigError as failure:
            error = str(failure)
    error, payload = comm.bcast((error, payload), root=0)
    if error:
        raise ConfigError(error)
    return payload


def _claim_directory(study: Study, study_dir: Path) -> None:
    """A study directory belongs to one study (its file and resolved base config): a rerun with
    anything else is refused rather than mixing two studies' samples."""
    expected = {study_dir / STUDY_COPY: study.source, study_dir / BASE_COPY: tomli_w.dumps(study.model_config)}
    if all(path.exists() for path in expected):
        for path, text in expected.items():
            if path.read_text() != text:
                raise ConfigError(f"{study_dir} holds a different study ({path.name} differs from this one); "
                                  f"choose another --out (nothing there was changed)")
        return
    study_dir.mkdir(parents=True, exist_ok=True)
    for path, text in expected.items():  # atomically: array tasks may claim the directory at once
        scratch = path.with_name(f"{path.name}.{os.getpid()}.partial")
        scratch.write_text(text)
        os.replace(scratch, path)
