"""Run directories: nothing half-written, earlier results never lost, failures say why."""

import json

import h5py
import pytest

from rimmodel.config import ConfigError, load_config
from rimmodel.io.results import read_run
from rimmodel.simulation import Simulation
from rimmodel.solver.stepper import StepOutcome
from rimmodel.solver.time_loop import SolverFailure
from rimviz.fields import read_fields

SHORT = ("output.progress=false", "time.end=2.0", "time.output_interval=0.5", "geometry.mesh_size=0.25")


def test_a_failing_run_keeps_its_earlier_outputs_and_says_why(shared_dir, monkeypatch):
    simulation = Simulation(load_config(None, SHORT))
    real_step = simulation.stepper.try_step

    def fail_after_one_year(t, dt):
        if t >= 1.0 - 1e-12:
            return StepOutcome(False, "injected failure", 0, 0)
        return real_step(t, dt)

    monkeypatch.setattr(simulation.stepper, "try_step", fail_after_one_year)
    with pytest.raises(SolverFailure, match="injected failure"):
        simulation.run(shared_dir / "failed")

    run = read_run(shared_dir / "failed")
    assert run.status == "failed" and "injected failure" in run.reason
    assert list(run.time) == [0.0, 0.5, 1.0]
    status = json.loads((shared_dir / "failed" / "status.json").read_text())
    assert status["status"] == "failed" and status["t_reached_yr"] == 1.0
    assert list(read_fields(shared_dir / "failed").times) == [0.0, 0.5, 1.0]
    rejected = run.solver["accepted"] == 0
    assert rejected.sum() >= 10  # halved repeatedly down to dt_min before giving up
    with h5py.File(shared_dir / "failed" / "observables.h5", "r") as h5:
        units = {name: h5[f"solver/{name}"].attrs["units"] for name in ("time", "dt", "wall_time", "accepted")}
    assert units == {"time": "yr", "dt": "yr", "wall_time": "s", "accepted": "1"}


def test_newton_failure_is_rejected_retried_then_reported(shared_dir):
    config = load_config(None, (*SHORT, "solver.petsc_options.snes_max_it=1", "time.dt_min=0.01"))
    with pytest.raises(SolverFailure, match="Newton did not converge"):
        Simulation(config).run(shared_dir / "newton")
    assert read_run(shared_dir / "newton").status == "failed"


def test_an_existing_run_is_never_overwritten_by_accident(shared_dir, comm):
    simulation = Simulation(load_config(None, (*SHORT, "time.end=0.5")))
    simulation.run(shared_dir / "first")
    before = (shared_dir / "first" / "observables.h5").read_bytes()
    comm.barrier()
    with pytest.raises(ConfigError, match="already holds a run"):
        simulation.run(shared_dir / "first")
    assert (shared_dir / "first" / "observables.h5").read_bytes() == before
    comm.barrier()  # every rank has compared before rank 0 deletes the file to overwrite it
    simulation.run(shared_dir / "first", overwrite=True)
    assert read_run(shared_dir / "first").status == "completed"


def test_provenance_and_solver_statistics_are_recorded(shared_dir, comm):
    simulation = Simulation(load_config(None, (*SHORT, "time.end=0.5")))
    simulation.run(shared_dir / "run")
    run = read_run(shared_dir / "run")
    for key in ("rimmodel_version", "git_commit", "dolfinx_version", "petsc_version", "mpi_size",
                "wall_time_s", "global_dofs"):
        assert key in run.provenance
    assert run.provenance["mpi_size"] == comm.size
    assert load_config(None, SHORT).time.end == 2.0
    assert "end = 0.5" in run.config_toml
    assert (run.solver["newton_iterations"] >= 1).all() and run.solver["accepted"].all()
    with h5py.File(shared_dir / "run" / "observables.h5") as h5:
        assert h5["observables/lesion_equivalent_radius"].attrs["units"] == "mm"
        assert h5["profiles/myelin_loss"].shape == (run.time.size, 10)


def test_a_treatment_schedule_switches_exactly_at_its_start(shared_dir):
    schedule = "btk.schedule=[{start=0.75, cns=0.8, peripheral=0.9}]"
    record = Simulation(load_config(None, (*SHORT, "output.fields=false", schedule))).run(shared_dir / "sched")
    assert record.btk["cns"] == [0.0, 0.0, 0.8, 0.8, 0.8]   # outputs at 0, 0.5, 1.0, 1.5, 2.0
    assert 0.75 in [step["time"] for step in record.steps if step["accepted"]]
