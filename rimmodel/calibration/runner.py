"""``calibrate``: waves of model runs through the study machinery, then the inference.

Every batch of parameter sets (a history-matching wave, an ABC-SMC generation) is one study
directory under OUT (``wave-1``, ``abc-generation-1``, ...) run by ``run_study``: MPI groups with
forms compiled once, journals, resume. A batch's design is a deterministic function of the
calibration file and the batches before it, and its study file records the design's hash, so
rerunning the command after a kill recomputes the same designs, skips every journaled sample
and refuses a directory holding a different design. The emulators are fitted one observable per
rank; history matching and emcee run on rank 0 while the other ranks sleep, and their designs are
broadcast; ABC-SMC steps are cheap and run identically on every rank.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tomli_w

from rimmodel.calibration import abc, history_matching, mcmc
from rimmodel.calibration.emulator import Emulator, fit_emulators
from rimmodel.calibration.likelihood import Targets, log_posterior_unit
from rimmodel.calibration.observations import Observation, from_scale
from rimmodel.calibration.spec import LESION_MODELS, Calibration
from rimmodel.fem import MPI


@dataclass
class Batch:
    name: str
    unit: np.ndarray                     # (n, d) design
    values: dict[str, np.ndarray]        # observation id -> (n,) natural units, NaN where failed
    completed: np.ndarray                # (n,) bool
    wall_s: np.ndarray                   # (n,) model wall time per sample


@dataclass
class Outcome:
    """Everything the outputs and the report need (complete on rank 0)."""

    calibration: Calibration
    method: str
    batches: list[Batch] = field(default_factory=list)
    posterior_unit: np.ndarray | None = None       # (draws, d)
    chains: mcmc.Chains | None = None
    diagnostics: dict = field(default_factory=dict)
    emulators: dict[str, Emulator] = field(default_factory=dict)
    nroy_fractions: list[float] = field(default_factory=list)
    abc_result: abc.ABCResult | None = None
    predictive: dict[str, np.ndarray] = field(default_factory=dict)   # id -> (draws,) natural units
    wall_s: float = 0.0

    @property
    def model_runs(self) -> int:
        """Lesion simulations run (samples x cohort lesions for the FEM model)."""
        per_sample = self.calibration.cohort.lesions if self.calibration.settings.model in LESION_MODELS else 1
        return int(sum(b.completed.size for b in self.batches)) * per_sample


def targets_for(observations: list[Observation], discrepancy: float) -> Targets:
    return Targets([o.id for o in observations], np.array([o.observed for o in observations]),
                   np.array([o.sd for o in observations]), np.full(len(observations), discrepancy))


def on_scale(observations: list[Observation], values: dict[str, np.ndarray]) -> np.ndarray:
    """(n, k) values on each observation's likelihood scale."""
    return np.column_stack([o.transform(values[o.id]) for o in observations])


def calibrate(calibration: Calibration, out_dir: str | Path, comm=MPI.COMM_WORLD, progress: bool = True) -> Outcome:
    """Run (or continue) a calibration in ``out_dir``. Collective."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    outcome = Outcome(calibration, calibration.settings.method)
    if calibration.settings.method == "abc":
        _abc(calibration, out_dir, comm, progress, outcome)
    else:
        _emulator(calibration, out_dir, comm, progress, outcome)
    outcome.wall_s = time.perf_counter() - started
    return outcome


def run_batch(calibration: Calibration, unit: np.ndarray, study_dir: Path, comm, progress: bool) -> Batch:
    """One batch of parameter sets through ``run_study``. Collective; every rank gets the values."""
    import h5py

    from rimmodel.calibration.simulator import STUDY_MODELS
    from rimmodel.study.results import RESULTS_FILE, read_results
    from rimmodel.study.runner import run_study
    from rimmodel.study.spec import Study, StudyParameters

    digest = hashlib.sha256(np.ascontiguousarray(unit).tobytes()).hexdigest()
    # what each sample computes, so a batch directory is refused after an operator changes
    produced = json.dumps([[o.id, o.operator, o.arguments] for o in calibration.outputs], sort_keys=True)
    settings = StudyParameters(model=STUDY_MODELS.get(calibration.settings.model, STUDY_MODELS["analytic"]),
                               sampler="latin", samples=unit.shape[0], seed=calibration.settings.seed,
                               ranks_per_run=calibration.settings.ranks_per_run,
                               observables=[o.id for o in calibration.outputs], keep_runs=False)
    study = Study(settings, {p.name: p.distribution for p in calibration.priors}, {}, calibration.model_config,
                  f"{design_source(calibration)}\n# calibration batch {study_dir.name}, design sha256 {digest}\n"
                  f"# operators {produced}\n", unit)
    study.calibration = calibration
    run_study(study, study_dir, comm, progress=progress)
    results = read_results(study_dir)
    values = {o.id: results.observables[o.id][:, 0] for o in calibration.outputs}
    with h5py.File(study_dir / RESULTS_FILE, "r") as h5:
        wall = h5["timing/wall_s"][()]
    return Batch(study_dir.name, unit, values, results.completed, wall)


def design_source(calibration: Calibration) -> str:
    """The calibration file as a batch directory records it: without what no batch depends on
    ([mcmc], which runs after the last batch, and the parameter set's name), so changing the
    sampler's settings reuses every model run already made."""
    raw = tomllib.loads(calibration.source)
    raw.pop("mcmc", None)
    raw.get("calibration", {}).pop("name", None)
    return tomli_w.dumps(raw)


def pooled(batches: list[Batch], observations: list[Observation]) -> tuple[np.ndarray, np.ndarray]:
    unit = np.concatenate([b.unit[b.completed] for b in batches])
    values = np.concatenate([on_scale(observations, {k: v[b.completed] for k, v in b.values.items()})
                             for b in batches])
    return unit, values


def emulator_predictor(emulators: list[Emulator]):
    def predict(unit):
        found = [e.predict(unit) for e in emulators]
        return np.column_stack([m for m, _ in found]), np.column_stack([v for _, v in found])
    return predict


def _emulator(calibration: Calibration, out_dir: Path, comm, progress: bool, outcome: Outcome) -> None:
    design, seed, d = calibration.design, calibration.settings.seed, len(calibration.priors)
    targets = targets_for(calibration.calibrate, calibration.settings.discrepancy)
    unit = comm.bcast(history_matching.space_filling(design.points, d, seed) if comm.rank == 0 else None, root=0)
    for wave in range(design.waves):
        outcome.batches.append(run_batch(calibration, unit, out_dir / f"wave-{wave + 1}", comm, progress))
        emulators = _fit(outcome, calibration.calibrate, seed, comm, progress)

        def next_design(wave=wave, emulators=emulators):
            predictor = emulator_predictor([emulators[o.id] for o in calibration.calibrate])
            found = history_matching.next_wave(predictor, targets, d, design.points, design.candidates,
                                               seed + wave + 1, design.cutoff)
            outcome.nroy_fractions.append(found.nroy_fraction)
            _say(progress, f"wave {wave + 1}: not ruled out {100 * found.nroy_fraction:.2f} % of the prior space")
            return found.design
        unit = on_root(comm, next_design)
    outcome.emulators = _fit(outcome, calibration.outputs, seed, comm, progress)

    def infer():
        predictor = emulator_predictor([outcome.emulators[o.id] for o in calibration.calibrate])
        settings = calibration.mcmc
        started = time.perf_counter()
        outcome.chains = mcmc.sample(log_posterior_unit(predictor, targets), d, settings.walkers, settings.steps,
                                     seed, settings.convergence, calibration.names, moves=settings.moves)
        _say(progress, f"MCMC: {outcome.chains.steps} steps x {settings.walkers} walkers in "
                       f"{time.perf_counter() - started:.0f} s, {'' if outcome.chains.converged else 'not '}converged")
        outcome.posterior_unit = outcome.chains.flat
        outcome.diagnostics = outcome.chains.per_parameter
        outcome.predictive = _emulated_predictive(outcome, seed)
    on_root(comm, infer)


def on_root(comm, work):
    """``work()`` on rank 0, its result broadcast to every rank; the other ranks sleep meanwhile."""
    result = work() if comm.rank == 0 else None
    sleep_until_all_arrive(comm)
    return comm.bcast(result, root=0)


def _cores_per_rank(comm) -> int:
    node = comm.Split_type(MPI.COMM_TYPE_SHARED)
    ranks_here = node.size
    node.Free()
    return max(1, (os.cpu_count() or 1) // ranks_here)


def sleep_until_all_arrive(comm, pause_s: float = 0.05) -> None:
    """A barrier that sleeps: a blocking MPI call busy-polls (MPICH), taking a core from the ranks
    still working (rank 0's BLAS threads, another rank's emulator fit)."""
    request = comm.Ibarrier()
    while not request.Test():
        time.sleep(pause_s)


def _say(progress: bool, message: str) -> None:
    """A stage line on stderr (rank 0 calls it)."""
    if progress:
        print(f"calibrate: {message}", file=sys.stderr, flush=True)


def _fit(outcome: Outcome, observations: list[Observation], seed: int, comm,
         progress: bool = False) -> dict[str, Emulator]:
    """One emulator per observation, fitted on rank (index mod size); complete on rank 0. Collective.
    Each fit depends only on its own data and seed: the emulators do not depend on the rank count
    (beyond BLAS round-off)."""
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    unit, values = pooled(outcome.batches, observations)
    mine = {o.id: values[:, j] for j, o in enumerate(observations) if j % comm.size == comm.rank}
    with threadpool_limits(_cores_per_rank(comm)):   # ranks fitting side by side: no oversubscribed BLAS
        fitted = fit_emulators(unit, mine, seed)
    sleep_until_all_arrive(comm)
    gathered = comm.gather(fitted, root=0)
    if comm.rank != 0:
        return {}
    merged = {name: emulator for part in gathered for name, emulator in part.items()}
    _say(progress, f"{len(observations)} emulators fitted on {unit.shape[0]} design points in "
                   f"{time.perf_counter() - started:.0f} s ({comm.size} ranks)")
    return {o.id: merged[o.id] for o in observations}


def _emulated_predictive(outcome: Outcome, seed: int, draws: int = 4000) -> dict[str, np.ndarray]:
    """Model counterpart of each observation at posterior draws: emulator mean plus its own noise."""
    rng = np.random.default_rng(seed)
    unit = outcome.posterior_unit[rng.choice(outcome.posterior_unit.shape[0], draws)]
    found = {}
    for observation in outcome.calibration.outputs:
        mean, variance = outcome.emulators[observation.id].predict(unit)
        z = mean + np.sqrt(variance) * rng.standard_normal(draws)
        found[observation.id] = from_scale(z, observation.scale)
    return found


def _abc(calibration: Calibration, out_dir: Path, comm, progress: bool, outcome: Outcome) -> None:
    settings, d = calibration.abc, len(calibration.priors)
    targets = targets_for(calibration.calibrate, calibration.settings.discrepancy)

    def simulate(unit: np.ndarray, generation: int) -> np.ndarray:
        batch = run_batch(calibration, unit, out_dir / f"abc-generation-{generation + 1}", comm, progress)
        outcome.batches.append(batch)
        values = on_scale(calibration.calibrate, batch.values)
        values[~batch.completed] = np.nan
        return values

    outcome.abc_result = abc.run(simulate, targets, d, settings.population, settings.proposals,
                                 settings.generations, calibration.settings.seed, settings.acceptance)
    final = outcome.abc_result.final
    outcome.posterior_unit = outcome.abc_result.resample(max(final.unit.shape[0], 1000), calibration.settings.seed)
    last = outcome.batches[-1]
    rows = [int(np.flatnonzero(np.all(last.unit == point, axis=1))[0]) for point in outcome.posterior_unit]
    outcome.predictive = {o.id: last.values[o.id][rows] for o in calibration.outputs}
    outcome.diagnostics = {"generations": [{"tolerance": g.tolerance, "accepted": int(g.unit.shape[0]),
                                            "effective_size": g.effective_size, "simulations": g.simulations}
                                           for g in outcome.abc_result.generations],
                           "exact_kernel_reached": outcome.abc_result.exact}
