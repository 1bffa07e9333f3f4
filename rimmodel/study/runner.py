"""``run_study``: every pending sample once, recorded as it finishes, then one results file.

Rerunning the same command on the same directory continues where a killed
study stopped: samples in the journal are not run again; the final file is
built from the journals in sample order, so it does not depend on which group
ran what or how often the study was restarted.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import tomli_w

from rimmodel.config import ConfigError
from rimmodel.fem import MPI
from rimmodel.interrupts import Interrupted, deferred_signals, stop_requested
from rimmodel.io.liveness import process_gone
from rimmodel.solver.phases import begin_petsc_logging
from rimmodel.study.journal import Journal, read_outcomes, worker_name, worker_process
from rimmodel.study.models import MODELS, SCRATCH_DIR
from rimmodel.study.results import RESULTS_FILE, write_results
from rimmodel.study.sampling import sample_values, unit_design
from rimmodel.study.scheduler import FAILED, FINISHED, STOP, Progress, SharedCounters, split_into_groups
from rimmodel.study.spec import Study

STUDY_COPY = "study.toml"
BASE_COPY = "base_config.toml"  # the resolved base model config every sample starts from


def run_study(study: Study, study_dir: str | Path, comm=MPI.COMM_WORLD, progress: bool = True,
              part: tuple[int, int] = (0, 1), collect: bool = True) -> Path:
    """Run (or continue) a study in ``study_dir``; returns the results file. Collective.

    ``part = (k, n)`` runs only samples with index % n == k (task k of a Slurm job array);
    ``collect`` writes the results file from every journal at the end.
    SIGINT / SIGTERM stop every group after its current time step; the samples they were
    running are not journaled (a rerun runs them), and ``Interrupted`` is raised on every rank.
    """
    study_dir = Path(study_dir)
    with deferred_signals():
        begin_petsc_logging(comm)  # collective: a group's first run may start after another group has ended
        group_comm, group, _ = split_into_groups(comm, study.parameters.ranks_per_run)
        design, samples, pending = _prepare(study, study_dir, comm)
        pending = [index for index in pending if index % part[1] == part[0]]
        counters = SharedCounters(comm)
        model = MODELS[study.parameters.model](study, group_comm, study_dir, group)
        stopped_by, error = "", None
        try:
            stopped_by = _run_samples(model, samples, pending, counters, group_comm, study_dir, group, progress)
        except BaseException as failure:  # the other groups take no new sample, then all stop together
            error = failure
            if group_comm.rank == 0:
                counters.add(STOP)
        finally:
            counters.free()
            _remove_scratch(study_dir / SCRATCH_DIR / worker_name(group) if group_comm.rank == 0 else None)
            group_comm.Free()
        _stop_together(comm, stopped_by, error)
    results = study_dir / RESULTS_FILE
    if comm.rank == 0 and collect:
        write_results(results, study, design, samples, read_outcomes(study_dir))
    comm.Barrier()
    return results


def _run_samples(model, samples: list, pending: list[int], counters: SharedCounters, group_comm,
                 study_dir: Path, group: int, progress: bool) -> str:
    """Run samples until none are left, a group asks all to stop, or a signal comes (its name is
    returned). Only finished samples are journaled: an interrupted one stays pending.
    A model with ``chunk = n > 1`` takes n samples per slot (``evaluate_chunk``: batched runs)."""
    leader = group_comm.rank == 0
    chunk = getattr(model, "chunk", 1)
    journal = Journal(study_dir, group) if leader else None
    meter = Progress(len(samples), len(samples) - len(pending), len(pending)) if progress and leader else None
    while True:
        if signal_name := stop_requested(group_comm):
            break
        slot = group_comm.bcast(counters.next_slot() if leader else None, root=0)
        if slot is None or slot * chunk >= len(pending):
            return ""
        indices = pending[slot * chunk:(slot + 1) * chunk]
        try:
            outcomes = _evaluate(model, indices, samples)
        except Interrupted as interruption:
            signal_name = interruption.signal_name
            break
        for index, outcome in zip(indices, outcomes) if leader else ():
            outcome.group = group
            journal.append(outcome)
            failed = counters.add(FAILED, outcome.status != "completed") + (outcome.status != "completed")
            finished = counters.add(FINISHED) + 1
            if meter is not None:
                meter.report(finished, failed, index, outcome.status)
    if leader:
        counters.add(STOP)
    return signal_name


def _evaluate(model, indices: list[int], samples: list) -> list:
    if hasattr(model, "evaluate_chunk"):
        return model.evaluate_chunk(indices, [samples[i] for i in indices])
    return [model.evaluate(indices[0], samples[indices[0]])]


def _stop_together(comm, stopped_by: str, error: BaseException | None) -> None:
    """Every rank learns how the others ended and raises alike, so none waits in a later collective."""
    signals, errors = zip(*comm.allgather((stopped_by, None if error is None else f"{type(error).__name__}: {error}")))
    if error is not None:
        raise error
    if any(errors):
        raise RuntimeError(f"the study stopped: another group of ranks failed ({next(e for e in errors if e)}); "
                           f"finished samples are kept in the journals")
    if any(signals):
        name = next(s for s in signals if s)
        raise Interrupted(name, f"stopped by {name}; finished samples are journaled, the samples that were "
                                f"running will run again")


def _remove_scratch(scratch: Path | None) -> None:
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)


def _remove_dead_scratch(study_dir: Path) -> None:
    """Scratch runs of earlier sessions on this host whose process is gone (a kill leaves them)."""
    for path in (study_dir / SCRATCH_DIR).glob("*-group-*"):
        if process_gone(worker_process(path.name)):
            shutil.rmtree(path, ignore_errors=True)


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
            _remove_dead_scratch(study_dir)
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
