"""What a run writes at each output time: observables into its record, fields, the record, a checkpoint."""

from __future__ import annotations

import time
from pathlib import Path

from rimmodel.io.checkpoint import Checkpoint, write_checkpoint
from rimmodel.io.field_record import write_field_record
from rimmodel.io.fields import FieldWriter
from rimmodel.io.results import FIELDS_FILE, RunRecord, write_record
from rimmodel.solver.phases import PhaseClock


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
        self.fields = FieldWriter(out_dir / FIELDS_FILE, simulation.disc, append=checkpoint is not None) \
            if self.config.output.fields else None
        if self.comm.rank == 0:  # what the fields are, for readers without the FEM stack
            write_field_record(out_dir, simulation.disc.fields.record())

    def __call__(self, t: float, next_dt: float) -> None:
        sim, record = self.simulation, self.record
        with self.clock.phase("observables"):
            record.add_output(t, sim.observables.evaluate(), sim.observables.depth_profile(),
                              (sim.occupancy.cns(t), sim.occupancy.peripheral(t)))
        if self.fields is not None:
            with self.clock.phase("field_output"):
                self.fields.write(sim.state, t)
        self.update_totals()
        with self.clock.phase("record_output"):
            self.write_record()
        self.outputs_written += 1
        sim.stepper.refresh_jacobian()  # so a resumed run takes the same path from here
        if self.config.output.checkpoints:
            arrays, previous_dt = sim.stepper.history()
            with self.clock.phase("checkpoints"):
                write_checkpoint(self.out_dir, self.comm, Checkpoint(self.outputs_written, t, next_dt, previous_dt,
                                                                     arrays, record))

    def update_totals(self) -> None:
        self.record.provenance["wall_time_s"] = time.perf_counter() - self.started
        self.record.timing = self.clock.totals(self.carried)

    def write_record(self) -> None:
        if self.comm.rank == 0:  # serial I/O of small data, by design
            write_record(self.out_dir, self.record)
