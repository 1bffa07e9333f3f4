"""``rimmodel study --draws``: the study runs once per posterior draw (the draws cross the design),
each draw directory a complete, resumable study; colliding or unknown draw columns are refused
before anything runs. Serially and under ``mpirun -n 2``."""

from pathlib import Path

import numpy as np
import pytest

from rimmodel.config import ConfigError
from rimmodel.study.draws import DRAWS_TABLE, choose_draws, draw_directory, run_study_over_draws
from rimmodel.study.journal import read_outcomes
from rimmodel.study.results import read_results
from rimmodel.study.spec import load_study

STUDY = """
[study]
sampler = "latin"
samples = 2
seed = 5
observables = ["microglia_total"]
keep_runs = false

[model.geometry]
mesh_size = 0.4
[model.time]
end = 0.5
output_interval = 0.25

[parameters."microglia.chemotactic_sensitivity"]
distribution = "uniform"
low = 0.02
high = 0.1
"""
# three draws as `rimmodel calibrate` writes them; cohort.* is calibration-only
DRAWS = """microglia.activation_rate,iron.clearance_rate,cohort.heterogeneity
1.6,0.5,0.1
2.9,1.5,0.2
2.2,1.0,0.15
"""


def write(directory: Path, name: str, text: str, comm) -> Path:
    path = directory / name
    if comm.rank == 0:
        path.write_text(text)
    comm.Barrier()
    return path


def test_a_study_runs_once_per_draw_with_the_draw_in_its_base_model(shared_dir, comm):
    study = load_study(write(shared_dir, "study.toml", STUDY, comm))
    draws_file = write(shared_dir, "draws.csv", DRAWS, comm)
    out = shared_dir / "out"
    chosen = choose_draws(draws_file, 2, study.parameters.seed)
    assert len(chosen) == 2 and all(set(d) == {"microglia.activation_rate", "iron.clearance_rate"} for d in chosen)
    run_study_over_draws(study, draws_file, 2, out, comm, progress=False)
    results = [read_results(draw_directory(out, k)) for k in range(2)]
    assert all(r.completed.all() for r in results)
    np.testing.assert_array_equal(results[0].values, results[1].values)  # the same design under each draw
    for k, draw in enumerate(chosen):  # each directory's base model holds its draw
        base = (draw_directory(out, k) / "base_config.toml").read_text()
        assert f"activation_rate = {draw['microglia.activation_rate']!r}" in base
    assert chosen[0]["microglia.activation_rate"] != chosen[1]["microglia.activation_rate"]
    total = [r.observables["microglia_total"][:, -1] for r in results]
    assert np.all(np.abs(total[0] - total[1]) > 1e-3 * np.abs(total[0]))  # the draw changes the runs
    if comm.rank == 0:
        table = (out / DRAWS_TABLE).read_text().splitlines()
        assert table[0].startswith("directory,microglia.activation_rate,iron.clearance_rate")
        assert table[1].startswith("draw-000,") and len(table) == 3
    before = [len(read_outcomes(draw_directory(out, k))) for k in range(2)]
    run_study_over_draws(study, draws_file, 2, out, comm, progress=False)  # a rerun runs nothing again
    assert [len(read_outcomes(draw_directory(out, k))) for k in range(2)] == before == [2, 2]


@pytest.mark.parametrize("column,message", [
    ("microglia.chemotactic_sensitivity", "the study sweeps microglia.chemotactic_sensitivity"),
    ("btk.cns_occupancy", "the study fixes btk.cns_occupancy"),
    ("microglia.no_such_rate", "draw 0"),
])
def test_draws_that_collide_or_are_unknown_are_refused_before_anything_runs(shared_dir, comm, column, message):
    text = STUDY + '\n[parameters."btk.cns_occupancy"]\ndistribution = "fixed"\nvalue = 0.5\n'
    study = load_study(write(shared_dir, "study.toml", text, comm))
    draws_file = write(shared_dir, "draws.csv", f"iron.clearance_rate,{column}\n0.5,0.05\n", comm)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        run_study_over_draws(study, draws_file, 2, shared_dir / "refused", comm, progress=False)
    assert not (shared_dir / "refused").exists()


def test_a_bad_draws_file_or_count_is_one_line_naming_it(shared_dir, comm):
    study = load_study(write(shared_dir, "study.toml", STUDY, comm))
    for text, message in (("iron.clearance_rate\n", "no posterior draws"),
                          ("iron.clearance_rate\nfast\n", "line 2: expected numbers"),
                          ("iron.clearance_rate,microglia.activation_rate\n0.5\n", "line 2: expected 2 finite")):
        draws_file = write(shared_dir, "bad.csv", text, comm)
        with pytest.raises(ConfigError, match=message):
            run_study_over_draws(study, draws_file, 2, shared_dir / "refused", comm, progress=False)
        comm.Barrier()
    with pytest.raises(ConfigError, match="--draws-count 0"):
        choose_draws(write(shared_dir, "draws.csv", DRAWS, comm), 0, 1)
