"""``rimmodel calibrate`` end to end through the study machinery (MPI groups, journals, resume):
analytic models for the emulator and ABC paths, one small run of the FEM lesion cohort.
Serially and under ``mpirun -n 2``."""

from pathlib import Path

import numpy as np
import pytest

from rimmodel.calibration.analytic import LINEAR_MATRIX, LINEAR_OFFSET, conjugate_posterior
from rimmodel.calibration.outputs import read_draws
from rimmodel.calibration.report import finish
from rimmodel.calibration.runner import calibrate
from rimmodel.calibration.spec import load_calibration
from rimmodel.config import ConfigError
from rimmodel.study.journal import JOURNAL_DIR

OBSERVED = {"y1": (0.55, 0.3, "calibration"), "y2": (0.42, 0.2, "calibration"), "y3": (0.2, 0.25, "validation")}


def observation_file(path: Path, entries: dict, operator: str = "analytic", arguments: dict | None = None) -> Path:
    blocks = []
    for name, (value, sd, role) in entries.items():
        args = (arguments or {}).get(name, {})
        blocks.append("\n".join([
            "[[observation]]", f'id = "{name}"', f'quantity = "{name}"', f"value = {value}",
            f"interval = [{value - 1.6448536269514722 * sd}, {value + 1.6448536269514722 * sd}]",
            f'interval_kind = "synthetic, sd {sd}"', 'units = "1"', 'population = "synthetic"',
            'citation = "test"', 'location = "-"', 'status = "D"', f'role = "{role}"', 'scale = "linear"',
            f'operator = "{args.pop("operator", operator)}"',
            "arguments = {" + ", ".join(f"{k} = {v!r}".replace("'", '"') for k, v in args.items()) + "}"]))
    path.write_text("\n\n".join(blocks) + "\n")
    return path


def linear_calibration(directory: Path, method: str) -> Path:
    observation_file(directory / "observations.toml", OBSERVED)
    path = directory / f"{method}.toml"
    path.write_text(f"""
[calibration]
model = "linear_gaussian"
observations = "observations.toml"
method = "{method}"
seed = 3
discrepancy = 0.0
[design]
points = 24
waves = 2
candidates = 2048
[mcmc]
walkers = 16
steps = 40000
[abc]
population = 400
proposals = 1200
generations = 10
[parameters.theta1]
prior = "normal"
mean = 0.0
std = 1.0
[parameters.theta2]
prior = "normal"
mean = 0.5
std = 0.7
""")
    return path


def exact_posterior():
    observed = np.array([OBSERVED["y1"][0], OBSERVED["y2"][0]])
    return conjugate_posterior(LINEAR_MATRIX[:2], LINEAR_OFFSET[:2], observed, np.array([0.3, 0.2]),
                               np.array([0.0, 0.5]), np.array([1.0, 0.7]))


def journal_lines(out: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in out.rglob(f"{JOURNAL_DIR}/*.jsonl"))


@pytest.mark.parametrize("method", ["emulator", "abc"])
def test_analytic_calibration_runs_through_the_study_machinery_and_resumes(shared_dir, comm, method):
    calibration = load_calibration(linear_calibration(shared_dir, method))
    out = shared_dir / "out"
    outcome = calibrate(calibration, out, comm, progress=False)
    lines = comm.bcast(journal_lines(out) if comm.rank == 0 else None, root=0)
    expected = 48 if method == "emulator" else 1200 * len(outcome.batches)
    assert lines == expected  # each sample once, across groups
    if comm.rank == 0:
        written = finish(outcome, out, shared_dir / "doc" / "calibration.md", shared_dir / "calibrated")
        mean, covariance = exact_posterior()
        draws = np.array([[d["theta1"], d["theta2"]] for d in read_draws(written.draws)])
        sd = np.sqrt(np.diag(covariance))
        assert np.all(np.abs(draws.mean(axis=0) - mean) < 0.3 * sd), (draws.mean(axis=0), mean)
        assert np.all(np.abs(draws.std(axis=0) / sd - 1) < 0.3), (draws.std(axis=0), sd)
        import xarray as xr

        tree = xr.open_datatree(written.posterior)
        assert {"posterior", "prior", "observed_data", "posterior_predictive"} <= set(tree.children)
        text = written.report.read_text()
        assert "## What the model cannot meet together" in text and "y3" in text
        if method == "emulator":  # the sampler ran until converged, and says so
            import json

            verdict = json.loads(written.diagnostics.read_text())["mcmc_convergence"]
            assert verdict["converged"] and not verdict["failures"]
            assert verdict["steps_per_walker"] < 40000 and "**MCMC converged**" in text
        for figure in ("corner", "prior_posterior", "predictive"):
            assert (shared_dir / "doc" / "figures" / f"calibration_{method}_{figure}.png").stat().st_size > 1000
        assert "theta1 = " in written.calibrated.read_text()
    again = calibrate(calibration, out, comm, progress=False)  # a rerun runs nothing again
    assert comm.bcast(journal_lines(out) if comm.rank == 0 else None, root=0) == lines
    if comm.rank == 0:
        assert np.array_equal(again.posterior_unit, outcome.posterior_unit)


def test_lesion_cohort_calibration_on_coarse_runs(shared_dir, comm):
    """Two parameters, one wave of 4 parameter sets x 2 lesions x 1.5 years on a coarse mesh."""
    observation_file(shared_dir / "observations.toml",
                     {"advance": (0.1, 0.05, "calibration"), "growth": (0.15, 0.1, "validation")},
                     arguments={"advance": {"operator": "median_lesion_edge_advance", "start": 0.5, "end": 1.5},
                                "growth": {"operator": "median_lesion_radius_change", "start": 0.0, "end": 1.5}})
    path = shared_dir / "cohort.toml"
    path.write_text("""
[calibration]
observations = "observations.toml"
seed = 1
[design]
points = 4
waves = 1
candidates = 256
[mcmc]
walkers = 8
steps = 300
burn = 100
ess_min = 1e6   # unreachable: the sampler stops at the cap and must say so
[cohort]
lesions = 2
years = 1.5
[model.geometry]
mesh_size = 0.4
[model.time]
dt = 0.25
output_interval = 0.25
[model.microglia]   # pinned, not the calibrated defaults: the regime where this coarse check was set up
deactivation_rate = 0.5
[model.myelin]
microglial_damage_rate = 1.5
[parameters."microglia.activation_rate"]
low = 1.6
high = 2.8
[parameters."cohort.heterogeneity"]
low = 0.05
high = 0.2
""")
    calibration = load_calibration(path)
    from rimmodel.calibration.runner import run_batch

    single = run_batch(calibration, np.array([[0.5, 0.5]]), shared_dir / "single", comm, progress=False)
    assert single.completed.all()  # fewer parameter sets than groups: no group may hang the others
    outcome = calibrate(calibration, shared_dir / "out", comm, progress=False)
    if comm.rank == 0:
        batch = outcome.batches[0]
        assert batch.completed.all(), batch
        assert np.all((batch.values["advance"] > 0.0) & (batch.values["advance"] < 0.5))
        rate = np.array([p.to_physical(u) for p, u in zip(calibration.priors, batch.unit.T)])[0]
        assert np.corrcoef(rate, batch.values["advance"])[0, 1] > 0.9  # faster activation, faster edge
        assert outcome.model_runs == 8
        written = finish(outcome, shared_dir / "out", shared_dir / "doc" / "calibration.md", shared_dir / "cal")
        text = written.report.read_text()
        assert "microglia.activation_rate" in text
        import json

        verdict = json.loads(written.diagnostics.read_text())["mcmc_convergence"]
        assert not verdict["converged"] and verdict["steps_per_walker"] == 300
        assert verdict["failures"][0] == "cap of 300 steps per walker reached"
        assert "**MCMC not converged**: cap of 300 steps per walker reached" in text


def test_trial_effect_sizes_over_posterior_draws(shared_dir, comm):
    """rimmodel trial --draws: one trial per draw; drawn values reach the lesions' configs."""
    from rimmodel.calibration.propagation import run_trial_over_draws, with_draw
    from rimmodel.trial.cohort import lesion_arm_config, sample_cohort
    from rimmodel.trial.config import load_trial

    root = Path(__file__).resolve().parents[1]
    text = (root / "experiments" / "trial_tolebrutinib_like.toml").read_text()
    text = text.replace("lesions = 8", "lesions = 2").replace("years = 6.0", "years = 0.5")
    text = text.replace("mesh_size = 0.25", "mesh_size = 0.4\n[model.time]\ndt = 0.25\noutput_interval = 0.25")
    (shared_dir / "trial.toml").write_text(text)
    (shared_dir / "draws.csv").write_text("microglia.activation_rate,microglia.deactivation_rate,cohort.heterogeneity\n"
                                          "2.0,0.45,0.1\n2.4,0.6,0.2\n")
    trial = load_trial(shared_dir / "trial.toml")
    varied = with_draw(trial, {"microglia.activation_rate": 2.4, "microglia.deactivation_rate": 0.6})
    assert varied.cohort["microglia.activation_rate"].median == 2.4 and trial.cohort[
        "microglia.activation_rate"].median == 2.2
    config = lesion_arm_config(varied, sample_cohort(varied)[0], None)
    assert config.microglia.deactivation_rate == 0.6
    summary = run_trial_over_draws(trial, shared_dir / "draws.csv", 2, shared_dir / "out", comm)
    if comm.rank == 0:
        text = summary.read_text()
        assert "tolebrutinib 60 mg" in text and "parametric 5–95 %" in text
        rows = (shared_dir / "out" / "effects_over_draws.csv").read_text().splitlines()
        assert len(rows) == 1 + 2 * 3  # header + 2 draws x 3 arms


RADIAL_COHORT = """
[calibration]
model = "{model}"
observations = "observations.toml"
seed = 4
batch = 2
[design]
points = 5
waves = 1
candidates = 256
[mcmc]
walkers = 8
steps = {steps}
burn = 50
[cohort]
lesions = 2
years = 2.0
[model.geometry]
{geometry}outer_radius = 4.0
mesh_size = 0.2
[model.time]
dt = 0.25
output_interval = 0.25
[parameters."microglia.activation_rate"]
low = 1.6
high = 2.8
[parameters."iron.clearance_rate"]
low = 0.2
high = 2.0
"""


def radial_cohort_file(directory: Path, model: str = "radial", steps: int = 200) -> Path:
    geometry = 'kind = "spherical_lesion"\n' if model == "rimmodel" else ""
    path = directory / f"{model}-{steps}.toml"
    path.write_text(RADIAL_COHORT.format(model=model, steps=steps, geometry=geometry))
    return path


def test_radial_cohorts_in_batches_equal_one_lesion_at_a_time(shared_dir, comm):
    """model = "radial": 5 parameter sets x 2 lesions, two samples per batch (chunks of 2, 2, 1),
    journaled once each; the values equal the same cohorts run one lesion at a time on the spherical
    geometry; a rerun with other [mcmc] settings reuses every run."""
    observation_file(shared_dir / "observations.toml",
                     {"advance": (0.1, 0.05, "calibration"), "iron": (1.0, 0.5, "calibration"),
                      "growth": (0.15, 0.1, "validation")},
                     arguments={"advance": {"operator": "median_lesion_edge_advance", "start": 0.5, "end": 2.0},
                                "iron": {"operator": "median_lesion_value", "observable": "iron_total", "at": 2.0},
                                "growth": {"operator": "median_lesion_radius_change", "start": 0.0, "end": 2.0}})
    radial = load_calibration(radial_cohort_file(shared_dir))
    assert radial.model_config["geometry"]["kind"] == "spherical_lesion"
    outcome = calibrate(radial, shared_dir / "radial", comm, progress=False)
    lines = comm.bcast(journal_lines(shared_dir / "radial") if comm.rank == 0 else None, root=0)
    assert lines == 5
    from rimmodel.calibration.runner import run_batch

    single = load_calibration(radial_cohort_file(shared_dir, model="rimmodel"))
    one_at_a_time = run_batch(single, outcome.batches[0].unit, shared_dir / "single", comm, progress=False)
    if comm.rank == 0:
        batch = outcome.batches[0]
        assert batch.completed.all() and outcome.model_runs == 10
        assert np.all(batch.values["advance"] > 0.0) and np.all(batch.values["iron"] > 0.0)
        for name, values in batch.values.items():
            assert values == pytest.approx(one_at_a_time.values[name], rel=1e-6, abs=1e-9), name
    again = calibrate(load_calibration(radial_cohort_file(shared_dir, steps=300)), shared_dir / "radial", comm,
                      progress=False)
    assert comm.bcast(journal_lines(shared_dir / "radial") if comm.rank == 0 else None, root=0) == lines
    if comm.rank == 0:
        assert np.array_equal(again.batches[0].values["advance"], outcome.batches[0].values["advance"])


def test_radial_calibration_refuses_another_geometry(shared_dir):
    observation_file(shared_dir / "observations.toml", {"advance": (0.1, 0.05, "calibration")},
                     arguments={"advance": {"operator": "median_lesion_edge_advance"}})
    path = radial_cohort_file(shared_dir)
    path.write_text(path.read_text().replace("[model.geometry]\n", '[model.geometry]\nkind = "cortical_section"\n'))
    with pytest.raises(ConfigError, match="model.geometry.kind = 'cortical_section'.*spherical_lesion"):
        load_calibration(path)
