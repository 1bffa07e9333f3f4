"""Virtual trial: cohort draws, arms, effect sizes, config errors."""

import numpy as np
import pytest

from rimmodel.config import ConfigError
from rimmodel.trial.cohort import sample_cohort
from rimmodel.trial.config import load_trial
from rimmodel.trial.runner import PLACEBO, run_trial
from rimmodel.trial.statistics import rate_ratio, relative_reduction

SMALL = """
[trial]
lesions = 3
seed = 4
years = 2.0
bootstrap = 200
[trial.cohort."lesion.radius"]
kind = "uniform"
low = 0.8
high = 1.2
[trial.cohort."microglia.activation_rate"]
kind = "lognormal"
median = 2.2
sigma = 0.05
[model.geometry]
mesh_size = 0.3
"""
DOSES = (20.0, 200.0, 800.0)
ARMS = "".join(f'[[trial.arms]]\nname = "fenebrutinib {dose:g} mg"\ndrug = "fenebrutinib"\ndose_mg = {dose}\n'
               f"interval_h = 12.0\n" for dose in DOSES)


def trial_file(tmp_path, text):
    path = tmp_path / "trial.toml"
    path.write_text(text)
    return path


def test_expansion_falls_monotonically_with_dose(shared_dir, comm):
    if comm.rank == 0:
        trial_file(shared_dir, SMALL + ARMS)
    comm.barrier()
    trial = load_trial(shared_dir / "trial.toml")
    outcomes = run_trial(trial, shared_dir, comm)
    means = [np.mean([o.expansion_rate for o in outcomes[name]])
             for name in (PLACEBO, *(f"fenebrutinib {dose:g} mg" for dose in DOSES))]
    occupancy = [np.mean([o.mean_cns_occupancy for o in outcomes[name]]) for name in outcomes]
    assert np.all(np.diff(means) < 0), means
    assert np.all(np.diff(occupancy) > 0), occupancy


def test_cohort_draws_are_reproducible_and_within_their_spreads(tmp_path):
    trial = load_trial(trial_file(tmp_path, SMALL + ARMS))
    first, again = sample_cohort(trial), sample_cohort(trial)
    assert first == again and len(first) == 3
    assert all(0.8 <= lesion["lesion.radius"] <= 1.2 for lesion in first)


def test_effect_sizes_on_known_data():
    rng = np.random.default_rng(0)
    placebo, treated = np.full(20, 0.2), np.full(20, 0.1)
    effect = relative_reduction(placebo, treated, rng, 200)
    assert effect.estimate == pytest.approx(0.5) and effect.low == pytest.approx(0.5)
    ratio = rate_ratio([1.0] * 10, [None] * 10, years=4.0, rng=rng, resamples=200)
    assert ratio.estimate == pytest.approx((0.5 / 40.0) / (10.5 / 10.0))


@pytest.mark.parametrize("arm, key", [('drug = "aspirin"', "trial.arms[0].drug"),
                                      ("start = 3.0\nstop = 1.0", "trial.arms[0].stop"),
                                      ("adherence = 2.0", "trial.arms[0].adherence")])
def test_bad_arms_are_named(tmp_path, arm, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.").replace("[", r"\[").replace("]", r"\]")):
        load_trial(trial_file(tmp_path, SMALL + f'[[trial.arms]]\nname = "x"\n{arm}\n'))


def test_a_trial_needs_arms(tmp_path):
    with pytest.raises(ConfigError, match="trial.arms"):
        load_trial(trial_file(tmp_path, SMALL))


@pytest.mark.parametrize("name, rule", [
    ("/tmp/elsewhere", "is not allowed"), ("../../other-run", "is not allowed"), ("a/b", "is not allowed"),
    ("..", "is not allowed"), ("", "is not allowed"), ("x" * 65, "is not allowed"), ("a\\nb", "is not allowed"),
    ("placebo", "is reserved"), ("Placebo", "is reserved"),
])
def test_an_arm_name_is_one_safe_directory_name_and_not_placebo(tmp_path, name, rule):
    with pytest.raises(ConfigError) as refused:
        load_trial(trial_file(tmp_path, SMALL + f'[[trial.arms]]\nname = "{name}"\ndrug = "fenebrutinib"\n'))
    message = str(refused.value)
    assert message.startswith("trial.arms[0].name = ") and rule in message and "\n" not in message


def test_two_arms_with_one_name_are_refused(tmp_path):
    arms = '[[trial.arms]]\nname = "fenebrutinib"\n[[trial.arms]]\nname = "Fenebrutinib"\ndose_mg = 20.0\n'
    with pytest.raises(ConfigError, match=r"trial.arms\[1\].name = 'Fenebrutinib' repeats trial.arms\[0\].name"):
        load_trial(trial_file(tmp_path, SMALL + arms))


def test_the_shipped_arm_names_are_allowed_and_runs_stay_under_out(tmp_path):
    from pathlib import Path

    from rimmodel.trial.runner import arm_run_dir

    trial = load_trial(Path(__file__).resolve().parents[1] / "experiments/trial_tolebrutinib_like.toml")
    for arm in trial.arms:
        assert arm_run_dir(tmp_path, 0, arm.name).parent == tmp_path / "runs" / "lesion-000"
    with pytest.raises(ConfigError, match="outside"):
        arm_run_dir(tmp_path, 0, "../../elsewhere")


@pytest.mark.parametrize("text, message", [
    ('[trial.cohort."lesion.radius"]\nlow = 1.3\nhigh = 0.7\n', r"trial.cohort.lesion.radius.low = 1.3 must not "
                                                                 r"exceed high = 0.7"),
    ('[trial.cohort."radius"]\nlow = 0.7\n', r"trial.cohort.'radius': expected a model config key"),
    ('[trial.cohort."lesion.radius"]\nlow = 200.0\nhigh = 300.0\n', r"\[model\] with lesion 0 .*lesion.radius"),
    ("[model.time]\ndt = -1.0\n", r"\[model\] with lesion 0 .*time.dt"),
    ('[model.solver.petsc_options]\nsnes_view = "ascii:/tmp/x"\n', r"snes_view"),
    ("[trail]\nlesions = 2\n", r"trail: unknown table"),
])
def test_cohort_and_model_errors_are_one_line_before_anything_runs(tmp_path, text, message):
    base = SMALL.replace('[trial.cohort."lesion.radius"]\nkind = "uniform"\nlow = 0.8\nhigh = 1.2\n', "")
    with pytest.raises(ConfigError, match=message) as refused:
        load_trial(trial_file(tmp_path, text + base + ARMS))
    assert "\n" not in str(refused.value)


def test_a_trial_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes((SMALL + ARMS).replace("fenebrutinib 20 mg", "fénébrutinib 20 mg").encode("latin-1"))
    with pytest.raises(ConfigError, match=f"{path}: not a readable UTF-8 TOML file"):
        load_trial(path)
