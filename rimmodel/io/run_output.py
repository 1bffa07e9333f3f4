"""What a run writes at each output time: observables into its record, fields, the record, a checkpoint.

Writing can fail for want of space (a full disk, a quota). Before each output rank 0
compares the free space with what the last output took, so the run usually stops
cleanly *before* writing: status ``failed``, the reason, and the run resumable once
there is room. A write that fails anyway removes its temporary (``.partial``) files;
the ranks agree on the failure where the write has no collective inside it, and
where it has (a checkpoint), the failing rank records the status and aborts the job
rather than leave the others waiting.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from rimmodel.io.checkpoint import CHECKPOINT_DIR, Checkpoint, write_checkpoint
from rimmodel.io.field_record import write_field_record
from rimmodel.io.fields import FieldWriter
from rimmodel.io.results import (FIELDS_FILE, HEARTBEAT_S, OBSERVABLES_FILE, STALE_AFTER_S, RunRecord,
                                 write_record, write_status)
from rimmodel.solver.phases import PhaseClock

# Readers (ParaView, h5py) hold a shared HDF5 file lock on fields.h5 while they have it open, and the
# run's next append then failed ("Failed to create/open HDF5 file (append mode)"). The run writes
# without HDF5 file locks; a reader may see the newest output half-written, never damage the file.
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")

_MARGIN = 64 * 1024  # bytes kept free beyond the estimate: status.json, the file system's own blocks


class OutputFailure(RuntimeError):
    """An output could not be written (no space, a quota): the run stops as ``failed``."""


class RunOutput:
    """Called by the time loop at every output time; keeps the run directory resumable.

    ``carried`` phase timings and ``elapsed`` wall time come from the checkpoint of a
    resumed run, so totals cover the whole run, not just its last part.
    """

    def __init__(self, simulation, out_dir: Path, record: RunRecord, checkpoint: Checkpoint | None):
        self.simulation, self.out_dir, self.record = simulation, out_dir, record
        self.comm = simulation.comm
        self.config = simulation.config
        self.started = time.perf_counter() - record.provenance.get("wall_time_s", 0.0)
        self.clock = PhaseClock(self.comm)
        self.carried = dict(record.timing) if checkpoint else None
        self.outputs_written = checkpoint.number if checkpoint else -1
        self.resumable = checkpoint is not None  # a committed checkpoint exists
        self.needed_bytes = _first_output_bytes(record.provenance)
        self.last_heartbeat, self.longest_step = time.monotonic(), 0.0
        try:
            self._check_space()  # HDF5 aborts the process if the disk fills while it writes the mesh
        except OutputFailure as failure:
            record.status, record.reason = "failed", str(failure)
            self.write_final_record()
            raise
        self.fields = FieldWriter(out_dir / FIELDS_FILE, simulation.disc, append=checkpoint is not None) \
            if self.config.output.fields else None
        if self.comm.rank == 0:  # what the fields are, for readers without the FEM stack
            write_field_record(out_dir, simulation.disc.fields.record())

    def __call__(self, t: float, next_dt: float) -> None:
        sim, record = self.simulation, self.record
        self._check_space()
        size_before = _directory_bytes(self.out_dir) if self.comm.rank == 0 else 0
        with self.clock.phase("observables"):
            record.add_output(t, sim.observables.evaluate(), sim.observables.depth_profile(),
                              (sim.occupancy.cns(t), sim.occupancy.peripheral(t)))
        if self.fields is not None:
            with self.clock.phase("field_output"):
                self._agreed_write("fields.h5", lambda: self.fields.write(sim.state, t))
        self.update_totals()
        with self.clock.phase("record_output"):
            self._agreed_write(OBSERVABLES_FILE, self.write_record)
        self.outputs_written += 1
        sim.stepper.refresh_jacobian()  # so a resumed run takes the same path from here
        if self.config.output.checkpoints:
            arrays, previous_dt = sim.stepper.history()
            with self.clock.phase("checkpoints"):
                try:
                    write_checkpoint(self.out_dir, self.comm, Checkpoint(self.outputs_written, t, next_dt,
                                                                         previous_dt, arrays, record))
                    self.resumable = True
                except OSError as error:  # ranks may be parted by the barriers inside: no agreement
                    self._abort(f"could not write its checkpoint: {error}")
        if self.comm.rank == 0:
            self._measure_output(size_before)

    def heartbeat(self, step_wall_time: float) -> None:
        """After every step: refresh status.json now and then, so readers can tell the run is alive."""
        self.longest_step = max(self.longest_step, step_wall_time)
        if self.comm.rank == 0 and time.monotonic() - self.last_heartbeat >= HEARTBEAT_S:
            try:
                write_status(self.out_dir, self.record.status, self.record.reason,
                             self.record.time[-1] if self.record.time else 0.0, self._stale_after())
            except OSError:
                pass  # not fatal: the next output checks the space and says so
            self.last_heartbeat = time.monotonic()

    def update_totals(self) -> None:
        self.record.provenance["wall_time_s"] = time.perf_counter() - self.started
        self.record.timing = self.clock.totals(self.carried)

    def write_record(self) -> None:
        if self.comm.rank == 0:  # serial I/O of small data, by design
            write_record(self.out_dir, self.record, self._stale_after())
            self.last_heartbeat = time.monotonic()

    def write_final_record(self) -> None:
        """The record as the run ends; with no room for observables.h5, at least status.json."""
        if self.comm.rank != 0:
            return
        try:
            self.write_record()
        except OSError as error:
            remove_partial_files(self.out_dir)
            try:
                write_status(self.out_dir, self.record.status, self.record.reason,
                             self.record.time[-1] if self.record.time else 0.0)
            except OSError:
                print(f"rimmodel: could not record the run's end in {self.out_dir}: {error}", file=sys.stderr)

    def _stale_after(self) -> float:
        return max(STALE_AFTER_S, 3.0 * self.longest_step)

    def _check_space(self) -> None:
        """Collective: stop cleanly, before writing, if the next output would not fit."""
        message = None
        if self.comm.rank == 0:
            free = shutil.disk_usage(self.out_dir).free
            if free < self.needed_bytes + _MARGIN:
                message = (f"no room for the next output in {self.out_dir}: {_mib(free)} free on its file system, "
                           f"the output needs about {_mib(self.needed_bytes + _MARGIN)}")
        message = self.comm.bcast(message, root=0)
        if message:
            raise OutputFailure(f"{message}; {self._after_freeing_space()}")

    def _agreed_write(self, what: str, write) -> None:
        """Write; if it fails on any rank, every rank raises OutputFailure together."""
        error = None
        try:
            write()
        except (OSError, RuntimeError) as failure:  # DOLFINx reports HDF5 write errors as RuntimeError
            remove_partial_files(self.out_dir)
            error = f"{type(failure).__name__}: {failure}"
        errors = [e for e in self.comm.allgather(error) if e]
        if errors:
            raise OutputFailure(f"could not write {self.out_dir / what} ({errors[0]}; "
                                f"{_mib(shutil.disk_usage(self.out_dir).free)} free); {self._after_freeing_space()}")

    def _abort(self, problem: str) -> None:
        reason = f"{problem}; {self._after_freeing_space()}"
        remove_partial_files(self.out_dir)
        if self.comm.size == 1:
            raise OutputFailure(reason)
        try:  # this rank may be the only one that knows: it records the end itself
            write_status(self.out_dir, "failed", reason, self.record.time[-1] if self.record.time else 0.0)
        except OSError:
            pass
        print(f"rimmodel: run failed: {reason}", file=sys.stderr, flush=True)
        self.comm.Abort(1)

    def _after_freeing_space(self) -> str:
        if not self.resumable:
            return "free some space, then run it again with --overwrite (no checkpoint was written yet)"
        return f"free some space, then continue with: {resume_command(self.out_dir, self.comm.size)}"

    def _measure_output(self, size_before: int) -> None:
        """What the next output needs: what this one added, plus the temporary copies of the
        record and the checkpoint written before the old ones are replaced."""
        added = max(_directory_bytes(self.out_dir) - size_before, 0)
        temporary = _file_bytes(self.out_dir / OBSERVABLES_FILE) + _directory_bytes(self.out_dir / CHECKPOINT_DIR)
        self.needed_bytes = 2 * added + temporary  # 2x: HDF5 grows its files in uneven blocks


def resume_command(out_dir: Path, ranks: int) -> str:
    launcher = f"mpirun -n {ranks} " if ranks > 1 else ""
    return f"{launcher}rimmodel run --resume {out_dir}"


def remove_partial_files(out_dir: Path) -> None:
    """Temporary files of writes that did not finish (atomic writes go to ``*.partial*`` first)."""
    for directory in (Path(out_dir), Path(out_dir) / CHECKPOINT_DIR):
        for path in directory.glob("*.partial*"):
            path.unlink(missing_ok=True)


def _first_output_bytes(provenance: dict) -> int:
    """Before anything is measured, generously: fields and two checkpointed histories (float64), the
    mesh and its tags (up to 16 numbers a cell), and HDF5's own structures (measured ~150 KiB at 2100 DOFs)."""
    return 8 * (6 * int(provenance.get("global_dofs", 0)) + 16 * int(provenance.get("cells", 0))) + 256 * 1024


def _directory_bytes(directory: Path) -> int:
    try:
        return sum(_file_bytes(path) for path in directory.iterdir())
    except OSError:
        return 0


def _file_bytes(path: Path) -> int:
    try:
        return path.stat().st_size if path.is_file() else 0
    except OSError:
        return 0


def _mib(size: float) -> str:
    return f"{size / 2**20:.2f} MiB"
