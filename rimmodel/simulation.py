"""One run of the model, read top to bottom: geometry, discretisation, equations, time loop, outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

from rimmodel.config import ConfigError, ModelConfig, config_to_toml
from rimmodel.fem import MPI
from rimmodel.geometry import build_domain
from rimmodel.geometry.depth import depth_below_pia
from rimmodel.interrupts import Interrupted, deferred_signals, stop_requested
from rimmodel.io.checkpoint import CHECKPOINT_DIR, Checkpoint, read_checkpoint
from rimmodel.io.provenance import provenance
from rimmodel.io.results import (CONFIG_FILE, FIELDS_FILE, OBSERVABLES_FILE, STATUS_FILE, RunRecord, read_status,
                                 read_status_or_raise, stale_reason)
from rimmodel.io.run_lock import locked_run_directory
from rimmodel.io.run_output import OutputFailure, RunOutput, remove_partial_files, resume_command
from rimmodel.io.unreadable import UnreadableFile
from rimmodel.observables import SCALAR_UNITS, Observables
from rimmodel.physics.equations import FIELDS, RimEquations
from rimmodel.physics.fields import FieldSet
from rimmodel.pharmacology import occupancy_course
from rimmodel.solver.discretisation import discretise, refresh_follicle_density, set_initial_state
from rimmodel.solver.stepper import BDFStepper
from rimmodel.solver.time_loop import SolverFailure, StepRecord, integrate, stop_times


class Simulation:
    """Builds every piece once; ``run()`` integrates and writes one run directory."""

    def __init__(self, config: ModelConfig, comm=MPI.COMM_WORLD, fields: FieldSet = FIELDS):
        """``fields``: the model's field declarations (rimmodel.physics.equations.FIELDS)."""
        self.config, self.comm = config, comm
        self.domain = build_domain(config.geometry, comm, config.lesion)
        self.occupancy = occupancy_course(config)
        self.equations = RimEquations(self.domain.mesh, config, self.occupancy, fields)
        self.disc = discretise(self.domain, config, self.equations.fields)
        self.stepper = BDFStepper(self.equations, self.disc.tissue, self.disc.space, config.time.scheme,
                                  config.solver.petsc_options, config.solver.negativity_tolerance,
                                  jacobian_reuse=config.solver.jacobian_reuse)
        self.depth = depth_below_pia(self.domain, self.disc.scalar_space)
        self.observables = Observables(self.disc, self.stepper.state, self.depth, config.observables,
                                       config.geometry.cortex_thickness)

    def reconfigure(self, config: ModelConfig) -> None:
        """Switch to new parameter values on the same mesh and forms: nothing is recompiled."""
        fixed = ("geometry", "discretisation")
        changed = [name for name in fixed if getattr(config, name) != getattr(self.config, name)]
        if changed or config.time.scheme != self.config.time.scheme \
                or config.solver.petsc_options != self.config.solver.petsc_options:
            raise ConfigError(f"reconfigure() keeps the mesh and solver; these differ: "
                              f"{changed or ['time.scheme / solver.petsc_options']}: build a new Simulation")
        self.config = config
        self.occupancy = occupancy_course(config)
        self.equations.occupancy = self.occupancy
        self.equations.set_parameters(config)
        refresh_follicle_density(self.disc, config)
        self.stepper.negativity_tolerance = config.solver.negativity_tolerance
        self.stepper.set_jacobian_reuse(config.solver.jacobian_reuse)  # new parameter values, new Jacobian
        self.observables.configure(config.observables, config.geometry.cortex_thickness)

    @property
    def state(self):
        return self.stepper.state

    def run(self, out_dir: str | Path, overwrite: bool = False, resume: bool = False) -> RunRecord:
        """Integrate from the seeded lesion (or, with ``resume``, from the run's last checkpoint)
        to time.end, writing ``out_dir``. Collective.

        One process at a time: ``out_dir`` is locked while the run lasts (``RunDirectoryInUse``).
        SIGINT / SIGTERM stop the run after the current step on every rank, record it as
        ``interrupted`` and raise ``Interrupted``; a full disk records ``failed`` (``OutputFailure``).
        """
        out_dir = Path(out_dir)
        with deferred_signals():
            if signal_name := stop_requested(self.comm):  # e.g. Ctrl-C while the Simulation was built
                raise Interrupted(signal_name, f"stopped by {signal_name} before the run began; "
                                               f"nothing was written to {out_dir}")
            with locked_run_directory(out_dir, self.comm) as lock:
                if lock is not None and lock.taken_over:
                    print(f"rimmodel: {lock.path} was left by pid {lock.taken_over.get('pid')} on host "
                          f"{lock.taken_over.get('host')}, which is no longer running; taking it over", flush=True)
                checkpoint = self._resume_point(out_dir) if resume else None
                record = self._start_record(out_dir, overwrite, checkpoint)
                return self._run_to_end(RunOutput(self, out_dir, record, checkpoint), checkpoint)

    def _run_to_end(self, output: RunOutput, checkpoint: Checkpoint | None) -> RunRecord:
        record = output.record
        progress = _progress_bar(self.config, self.comm, checkpoint.t if checkpoint else 0.0)
        together = True  # every rank leaves here at the same point (not so after a bug on one rank)
        try:
            self._integrate(output, progress, checkpoint)
            record.status = "completed"
            if self.comm.rank == 0:  # nothing left to resume: free the space
                shutil.rmtree(output.out_dir / CHECKPOINT_DIR, ignore_errors=True)
        except (SolverFailure, OutputFailure) as failure:
            record.status, record.reason = "failed", str(failure)
            raise
        except Interrupted as interruption:
            record.status, record.reason = "interrupted", self._interruption_reason(interruption, output)
            raise Interrupted(interruption.signal_name, record.reason, interruption.t) from None
        except BaseException as error:  # a bug; or KeyboardInterrupt where no handler could be installed
            record.status = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
            record.reason, together = f"{type(error).__name__}: {error}", False
            raise
        finally:
            if together:
                output.update_totals()
            output.write_final_record()
            if progress is not None:
                progress.close()
            if together:  # and none reads the run before rank 0 has written it
                self.comm.Barrier()
        return record

    def _interruption_reason(self, interruption: Interrupted, output: RunOutput) -> str:
        """Where the run stopped and how to continue: from the checkpoint at the last output."""
        reached = f" at t = {interruption.t:.6g} yr" if interruption.t is not None else ""
        if not self.config.output.checkpoints:
            return (f"stopped by {interruption.signal_name}{reached}; no checkpoints (output.checkpoints = "
                    f"false): run it again with --overwrite to finish")
        kept = output.record.time[-1] if output.record.time else 0.0
        return (f"stopped by {interruption.signal_name}{reached}; outputs up to t = {kept:.6g} yr are kept; "
                f"continue with: {resume_command(output.out_dir, self.comm.size)}")

    def _start_record(self, out_dir: Path, overwrite: bool, checkpoint: Checkpoint | None) -> RunRecord:
        if checkpoint is None:
            prepare_run_dir(out_dir, overwrite, self.comm)
            self._reset_to_initial_state()
            record = self._new_record()
        else:
            self.stepper.restore(checkpoint.arrays, checkpoint.previous_dt)
            record, record.status = checkpoint.record, "running"
        if self.comm.rank == 0:
            remove_partial_files(out_dir)  # left by a kill mid-write
            (out_dir / CONFIG_FILE).write_text(record.config_toml)
        return record

    def _integrate(self, output: RunOutput, progress, checkpoint: Checkpoint | None) -> None:
        config = self.config

        def on_step(step: StepRecord) -> None:
            output.record.steps.append(vars(step))
            output.heartbeat(step.wall_time)
            if step.accepted and progress is not None:
                progress.update(step.dt)

        if checkpoint is None:
            output(0.0, config.time.dt)
        outputs = stop_times(config.time.end, config.time.output_interval)
        stops = stop_times(config.time.end, config.time.output_interval, self.occupancy.breakpoints())
        integrate(self.stepper, config.time.end, config.time.dt, config.time.dt_min, stops, set(outputs),
                  on_step, output, start=checkpoint and (checkpoint.t, checkpoint.next_dt),
                  stop_requested=lambda: stop_requested(self.comm))

    def _resume_point(self, out_dir: Path) -> Checkpoint:
        # status.json is read and judged on rank 0 alone, and every rank acts on the broadcast
        # verdict: a damaged file raising on one rank would leave the others waiting
        verdict = None
        if self.comm.rank == 0:
            try:
                verdict = _resume_verdict(out_dir)
            except Exception as bug:  # noqa: BLE001 - raised below on every rank, not here alone
                verdict = bug
        verdict = self.comm.bcast(verdict, root=0)
        if isinstance(verdict, Exception):
            raise verdict
        completed, note = verdict
        if completed:
            raise ConfigError(f"--resume: {out_dir} has already completed; nothing to continue")
        checkpoint = read_checkpoint(out_dir, self.comm)
        if checkpoint.record.config_toml != config_to_toml(self.config):
            raise ConfigError(f"--resume: {out_dir} was run with another configuration "
                              f"({out_dir / CONFIG_FILE}); resume with that one")
        if self.comm.rank == 0 and note:
            print(f"rimmodel: {note}; continuing from its checkpoint at t = {checkpoint.t:.6g} yr", flush=True)
        self.equations.set_time(checkpoint.t)
        return checkpoint

    def _reset_to_initial_state(self) -> None:
        set_initial_state(self.state, self.disc, self.config)
        self.stepper.initialise()
        self.equations.set_time(0.0)

    def _new_record(self) -> RunRecord:
        origin = provenance(self.comm) if self.comm.rank == 0 else None
        record = RunRecord(dimension=self.domain.volume_dimension, units=_units(self.domain.volume_dimension),
                           provenance=self.comm.bcast(origin, root=0), config_toml=config_to_toml(self.config),
                           depth_bin_edges=self.observables.bin_edges)
        record.provenance.update(global_dofs=self.disc.global_dofs(), cells=self.domain.global_cell_count())
        return record


def _resume_verdict(out_dir: Path) -> tuple[bool, str]:
    """(has the run completed?, a note for the user) from its status.json. Rank 0; never raises for
    a damaged file: the checkpoint, not the status, is what a resume continues from."""
    try:
        status = read_status_or_raise(out_dir)
    except FileNotFoundError:
        return False, ""
    except UnreadableFile as damage:
        return False, f"{damage}; ignoring it"
    if status.get("status") != "running":  # we hold the lock: a 'running' writer is gone
        return status.get("status") == "completed", ""
    why = stale_reason(status) or f"its process (pid {status.get('pid')} on host {status.get('host')}) is gone"
    return False, f"{out_dir} says 'running', but {why}"


def prepare_run_dir(out_dir: Path, overwrite: bool, comm) -> None:
    """Create the run directory; refuse to clobber an earlier run unless asked to. Collective."""
    error = None
    if comm.rank == 0:
        if (out_dir / OBSERVABLES_FILE).exists() and not overwrite:
            unfinished = read_status(out_dir).get("status") in ("running", "interrupted", "failed")
            error = (f"{out_dir} already holds a run; choose another --out or pass --overwrite "
                     f"(earlier results are left untouched)"
                     + (f", or continue it with: rimmodel run --resume {out_dir}" if unfinished else ""))
        else:
            if overwrite and out_dir.exists():
                for name in (OBSERVABLES_FILE, FIELDS_FILE, "fields.h5", CONFIG_FILE, STATUS_FILE):
                    (out_dir / name).unlink(missing_ok=True)
                shutil.rmtree(out_dir / CHECKPOINT_DIR, ignore_errors=True)
            out_dir.mkdir(parents=True, exist_ok=True)
    error = comm.bcast(error, root=0)
    if error:
        raise ConfigError(error)


def _units(dim: int) -> dict[str, str]:
    return {name: unit.replace("^d", f"^{dim}") for name, unit in SCALAR_UNITS.items()}


def _progress_bar(config: ModelConfig, comm, start: float):
    if comm.rank != 0 or not config.output.progress:
        return None
    from rimmodel.progress import run_progress

    return run_progress(config.time.end, start)

