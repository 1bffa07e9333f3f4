"""The inference is right: MCMC and ABC-SMC against a closed-form posterior, emulator
leave-one-out, history matching, recovery with narrowing, simulation-based calibration;
observation operators and the observation set. Analytic models only: fast, rank-local."""

from pathlib import Path

import numpy as np
import pytest
from scipy.special import ndtr
from scipy.stats import chisquare

from rimmodel.calibration import abc, history_matching, mcmc
from rimmodel.calibration.analytic import LINEAR_MATRIX, LINEAR_OFFSET, conjugate_posterior, logistic_growth
from rimmodel.calibration.emulator import Emulator
from rimmodel.calibration.likelihood import Targets, log_posterior_unit
from rimmodel.calibration.observations import load_observations
from rimmodel.calibration.operators import (OPERATORS, LesionRun, cohort_median_rim_lifetime, cohort_quantiles,
                                            cohort_rim_fraction, rim_lifetime)
from rimmodel.calibration.priors import build_prior, to_physical

ROOT = Path(__file__).resolve().parents[1]


def linear_problem(seed=1):
    priors = [build_prior("theta1", {"prior": "normal", "mean": 0.0, "std": 1.0}, model_keys=False),
              build_prior("theta2", {"prior": "normal", "mean": 0.5, "std": 0.7}, model_keys=False)]
    truth, sd = np.array([0.4, -0.2]), np.array([0.3, 0.2, 0.25])
    observed = LINEAR_MATRIX @ truth + LINEAR_OFFSET + sd * np.random.default_rng(seed).standard_normal(3)
    targets = Targets(["y1", "y2", "y3"], observed, sd, np.zeros(3))

    def predictor(unit):
        mean = to_physical(priors, unit) @ LINEAR_MATRIX.T + LINEAR_OFFSET
        return mean, np.zeros_like(mean)

    exact = conjugate_posterior(LINEAR_MATRIX, LINEAR_OFFSET, observed, sd, np.array([0.0, 0.5]),
                                np.array([1.0, 0.7]))
    return priors, targets, predictor, exact


# Recovery and SBC need many posteriors: converged to a looser standard than the default (still
# checked); the default standard is tested on the conjugate posterior.
QUICK = mcmc.Convergence(autocorrelation_multiple=20, r_hat_max=1.05, ess_min=100, check_every=250)


def assert_matches(draws, exact, mean_tol, sd_tol):
    mean, covariance = exact
    sd = np.sqrt(np.diag(covariance))
    assert np.all(np.abs(draws.mean(axis=0) - mean) < mean_tol * sd), (draws.mean(axis=0), mean)
    assert np.all(np.abs(draws.std(axis=0) / sd - 1) < sd_tol), (draws.std(axis=0), sd)


@pytest.mark.parametrize("moves", mcmc.MOVES)
def test_mcmc_runs_until_converged_and_reproduces_the_conjugate_posterior(moves):
    priors, targets, predictor, exact = linear_problem()
    chains = mcmc.sample(log_posterior_unit(predictor, targets), 2, 16, 100_000, seed=3, moves=moves)
    assert chains.converged and not chains.failures
    assert_matches(to_physical(priors, chains.flat), exact, mean_tol=0.1, sd_tol=0.1)
    assert 0.3 < chains.acceptance.mean() < 0.9
    tau = chains.autocorrelation.max()
    assert chains.unit.shape[1] >= 50 * tau and chains.burn >= 5 * tau
    assert chains.steps < 100_000 and chains.unit.shape[1] == chains.steps - chains.burn
    assert all(d["r_hat"] <= 1.01 and d["ess_bulk"] >= 400 and d["ess_tail"] >= 400
               for d in chains.per_parameter.values())
    assert chains.per_parameter == mcmc.diagnostics(chains, ["theta1", "theta2"])


def test_an_unknown_proposal_is_refused_by_name():
    _, targets, predictor, _ = linear_problem()
    with pytest.raises(ValueError, match="mcmc.moves = 'gibbs': allowed differential-evolution, stretch"):
        mcmc.sample(log_posterior_unit(predictor, targets), 2, 16, 400, seed=3, moves="gibbs")


def test_mcmc_that_hits_its_cap_says_it_did_not_converge():
    from rimmodel.calibration.report import convergence_lines

    _, targets, predictor, _ = linear_problem()
    chains = mcmc.sample(log_posterior_unit(predictor, targets), 2, 16, 400, seed=3, names=["theta1", "theta2"])
    assert not chains.converged and chains.steps == 400
    assert chains.failures[0] == "cap of 400 steps per walker reached" and len(chains.failures) > 1
    summary = chains.summary()
    assert summary["converged"] is False and summary["failures"] == chains.failures
    assert "**MCMC not converged**: cap of 400 steps per walker reached" in "\n".join(convergence_lines(chains))


def test_abc_smc_reproduces_the_conjugate_posterior():
    priors, targets, predictor, exact = linear_problem()
    result = abc.run(lambda unit, generation: predictor(unit)[0], targets, 2, 1000, 3000, 10, seed=5)
    assert result.exact  # the schedule reached eps = 1: exact under the Gaussian error model
    assert [g.tolerance for g in result.generations] == sorted((g.tolerance for g in result.generations),
                                                               reverse=True)
    assert_matches(to_physical(priors, result.resample(4000, 0)), exact, mean_tol=0.25, sd_tol=0.25)


def test_emulator_leave_one_out_is_exact_and_small():
    rng = np.random.default_rng(0)
    unit = rng.uniform(size=(30, 2))
    y = np.sin(3 * unit[:, 0]) + unit[:, 1] ** 2
    emulator = Emulator(unit, y)
    loo = emulator.leave_one_out()
    assert loo.relative_rmse < 0.1 and loo.coverage_2sd >= 0.8
    from sklearn.gaussian_process import GaussianProcessRegressor

    test = rng.uniform(size=(50, 2))  # the numpy predictor equals scikit-learn's
    mean, sd = emulator.gp.predict(test, return_std=True)
    found_mean, found_variance = emulator.predict(test)
    prior_variance = emulator.scale**2 * emulator.gp.kernel_.diag(test[:1])[0]  # both cancel against it
    assert np.allclose(found_mean, emulator.mean + emulator.scale * mean, rtol=0, atol=1e-8 * emulator.scale)
    assert np.allclose(found_variance, (emulator.scale * sd) ** 2, rtol=1e-6, atol=1e-12 * prior_variance)
    for i in (0, 7):  # the closed form equals refitting without point i at fixed hyperparameters
        kept = np.arange(30) != i
        gp = GaussianProcessRegressor(emulator.gp.kernel_, optimizer=None).fit(unit[kept], emulator.standard[kept])
        mean, sd = gp.predict(unit[i:i + 1], return_std=True)
        assert np.isclose(emulator.mean + emulator.scale * mean[0], y[i] - loo.residuals[i], atol=1e-6)
        assert np.isclose(emulator.scale * sd[0], loo.sd[i], rtol=1e-2)  # tiny variances: cancellation


def logistic_setting(outputs, sd, truth=(0.9, 1.5)):
    priors = [build_prior("rate", {"prior": "uniform", "low": 0.3, "high": 2.0}, model_keys=False),
              build_prior("capacity", {"prior": "uniform", "low": 0.5, "high": 3.0}, model_keys=False)]
    true_values = logistic_growth({"rate": truth[0], "capacity": truth[1]})
    observed = np.array([true_values[name] for name in outputs])
    targets = Targets(list(outputs), observed, np.full(len(outputs), sd), np.zeros(len(outputs)))
    design = history_matching.space_filling(40, 2, seed=1)
    physical = to_physical(priors, design)
    runs = [logistic_growth({"rate": r, "capacity": k}) for r, k in physical]
    emulators = [Emulator(design, np.array([run[name] for run in runs])) for name in outputs]

    def predictor(unit):
        found = [e.predict(unit) for e in emulators]
        return np.column_stack([m for m, _ in found]), np.column_stack([v for _, v in found])
    return priors, targets, predictor, np.array(truth)


def test_history_matching_keeps_the_truth_and_cuts_the_space():
    priors, targets, predictor, truth = logistic_setting(("size_at_1", "size_at_8"), 0.05)
    wave = history_matching.next_wave(predictor, targets, 2, 20, 4096, seed=2)
    truth_unit = np.array([[p.to_unit(v) for p, v in zip(priors, truth)]])
    assert history_matching.max_implausibility(predictor, targets, truth_unit)[0] < 3.0
    assert 0.0 < wave.nroy_fraction < 0.3
    assert wave.design.shape == (20, 2)
    assert np.all(history_matching.max_implausibility(predictor, targets, wave.design) < 3.0)


def test_recovery_truth_inside_90_percent_and_posterior_narrows_with_more_data():
    widths = []
    for outputs in (("size_at_2", "size_at_8"), ("size_at_1", "size_at_2", "size_at_4", "size_at_8")):
        priors, targets, predictor, truth = logistic_setting(outputs, 0.08)
        chains = mcmc.sample(log_posterior_unit(predictor, targets), 2, 16, 100_000, seed=4, criteria=QUICK)
        assert chains.converged, chains.failures
        draws = to_physical(priors, chains.flat)
        low, high = np.percentile(draws, [5, 95], axis=0)
        assert np.all((low <= truth) & (truth <= high)), (low, truth, high)
        widths.append(high - low)
    assert np.all(widths[1] < widths[0]), widths


def test_simulation_based_calibration_ranks_are_uniform():
    """Talts et al. 2018: theta ~ prior, y ~ model, rank of theta among posterior draws is uniform."""
    prior = build_prior("theta", {"prior": "normal", "mean": 0.0, "std": 1.0}, model_keys=False)
    rng, ranks, inside = np.random.default_rng(11), [], 0
    replicates, kept = 60, 49
    for r in range(replicates):
        theta = rng.standard_normal()
        y = 2.0 * theta + 0.5 * rng.standard_normal()
        targets = Targets(["y"], np.array([y]), np.array([0.5]), np.zeros(1))

        def predictor(unit):
            mean = 2.0 * prior.to_physical(unit[:, 0])[:, None]
            return mean, np.zeros_like(mean)

        chains = mcmc.sample(log_posterior_unit(predictor, targets), 1, 8, 20_000, seed=r, criteria=QUICK)
        assert chains.converged, chains.failures
        draws = prior.to_physical(chains.flat[:, 0])
        thinned = draws[np.linspace(0, draws.size - 1, kept).astype(int)]
        ranks.append(int(np.sum(thinned < theta)))
        low, high = np.percentile(draws, [5, 95])
        inside += low <= theta <= high
    counts = np.bincount(np.asarray(ranks) * 10 // (kept + 1), minlength=10)
    assert chisquare(counts).pvalue > 0.001, counts
    assert 0.75 <= inside / replicates <= 0.99  # 90 % +- 2.5 binomial sd for 60 replicates


def lesion(z, lifetime, horizon=12.0, step=0.25):
    time = np.arange(0.0, horizon + 1e-9, step)
    rim = np.clip(lifetime - time, 0.0, None)  # falls linearly to zero at the lifetime
    radius = 1.0 + 0.1 * np.minimum(time, lifetime)
    return LesionRun(z, time, {"iron_rim_size": rim, "rim_size": rim, "lesion_equivalent_radius": radius,
                               "iron_total": time * np.exp(-time)})


def test_rim_lifetime_interpolates_and_censors():
    assert np.isclose(rim_lifetime(lesion(0.0, 6.1)), 6.1)
    assert rim_lifetime(lesion(0.0, 20.0)) == 12.0    # censored at the horizon
    assert rim_lifetime(lesion(0.0, 0.0)) == 0.0      # never had a rim


def test_quantile_cohort_reads_the_population_survival():
    """Lifetimes L(z) = 6 + 2 z: median 6, share alive at 3 yr = 1 - Phi(-1.5); a large random cohort agrees."""
    cohort = [lesion(z, 6.0 + 2.0 * z) for z in cohort_quantiles(5)]
    assert np.isclose(cohort_median_rim_lifetime(cohort), 6.0, atol=1e-9)
    assert np.isclose(cohort_rim_fraction(cohort, at=3.0), 1 - ndtr(-1.5), atol=1e-9)
    z = np.random.default_rng(0).standard_normal(200_000)
    assert abs(np.median(6.0 + 2.0 * z) - 6.0) < 0.02
    assert abs(np.mean(6.0 + 2.0 * z > 3.0) - cohort_rim_fraction(cohort, at=3.0)) < 0.005
    shifted = [lesion(z, 6.0 + 2.0 * z + 1e-3) for z in cohort_quantiles(5)]  # continuous in the runs
    assert abs(cohort_rim_fraction(shifted, at=3.0) - cohort_rim_fraction(cohort, at=3.0)) < 1e-3


def test_rim_formed_fraction_is_the_share_with_any_rim():
    """Lifetimes L(z) = 2 (z - 0.5) above z = 0.5, none below: the share that ever forms a rim is 1 - Phi(0.5)."""
    cohort = [lesion(z, max(2.0 * (z - 0.5), 0.0)) for z in cohort_quantiles(9)]
    assert OPERATORS["cohort_rim_formed_fraction"](cohort) == pytest.approx(1 - ndtr(0.5), abs=0.02)
    assert OPERATORS["cohort_rim_formed_fraction"]([lesion(z, 5.0) for z in cohort_quantiles(3)]) == 1.0


def test_density_ratio_averages_over_time_and_cohort():
    """Iron density falling as exp(-t/4): the late/early ratio of time averages, whatever the lesion size."""
    time = np.linspace(0.0, 12.0, 49)
    cohort = [LesionRun(z, time, {"iron_total": (2.0 + z) * np.exp(-time / 4.0), "lesion_size": 2.0 + z + 0 * time})
              for z in (-1.0, 0.0, 1.0)]
    expected = (np.exp(-1.0) - np.exp(-10.6 / 4)) / 6.6 / ((np.exp(-0.25 / 4) - np.exp(-1.0)) / 3.75)
    assert OPERATORS["cohort_mean_density_ratio"](cohort) == pytest.approx(expected, rel=2e-3)
    with pytest.raises(ValueError, match="followed to 10.6 yr.*cohort.years"):
        OPERATORS["cohort_mean_density_ratio"]([LesionRun(0.0, time[:20], {})])


def test_black_hole_fraction_uses_the_mri_forward_model():
    """Tissue lost in proportion to z: T1 falls with z, and the share at or below the black-hole level
    is 1 - Phi(z*) at the crossing, found from the synthetic-MRI T1 of each lesion."""
    from rimmodel.calibration.operators import lesion_mean_t1
    from rimmodel.mri.parameters import MRIParameters

    time = np.array([0.0, 1.0])

    def run(z, lost):
        return LesionRun(z, time, {"lesion_size": np.array([10.0, 10.0]), "myelin_loss": np.array([9.0, 9.0]),
                                   "axon_loss": np.array([0.0, 0.0]), "tissue_loss": np.array([0.0, lost])})

    levels = {z: 3.0 + 1.5 * z for z in cohort_quantiles(7)}
    cohort = [run(z, lost) for z, lost in levels.items()]
    t1 = np.array([lesion_mean_t1(r, 1.0) for r in cohort])
    assert np.all(np.diff(t1) < 0) and lesion_mean_t1(run(0.0, 10.0), 1.0) == pytest.approx(0.3)  # all fluid
    crossing = np.interp(-MRIParameters().black_hole_threshold, -t1, list(levels))
    assert OPERATORS["cohort_black_hole_fraction"](cohort, at=1.0) == pytest.approx(1 - ndtr(crossing), abs=1e-9)


def test_the_observation_set_is_complete_and_split_before_fitting():
    observations = load_observations(ROOT / "observations" / "literature.toml", tuple(OPERATORS))
    used = [o for o in observations.values() if o.role != "not_used"]
    assert {o.role for o in used} == {"calibration", "validation"}
    for o in used:
        assert o.operator in OPERATORS and o.sd > 0 and o.citation and o.location and o.interval_kind
    assert not [o.id for o in observations.values() if o.role == "calibration" and o.status == "U"]
    assert all(o.reason for o in observations.values() if o.role == "not_used")


def test_bad_priors_and_observations_name_the_field(tmp_path):
    from rimmodel.calibration.spec import load_calibration
    from rimmodel.config import ConfigError

    with pytest.raises(ConfigError, match=r"microglia.activation_rate.*declared range \[0, 10000\]"):
        build_prior("microglia.activation_rate", {"prior": "uniform", "low": -1.0, "high": 2.0})
    with pytest.raises(ConfigError, match="not a model config key"):
        build_prior("microglia.speed", {"low": 1.0, "high": 2.0})
    text = (f'[calibration]\nobservations = "{ROOT}/observations/literature.toml"\n'
            'calibrate = ["prl_conversion_fraction_absinta2016"]\n'
            '[parameters."microglia.activation_rate"]\nlow = 1.5\nhigh = 3.0\n')
    (tmp_path / "c.toml").write_text(text)
    with pytest.raises(ConfigError, match="role 'validation'.*fixed there"):
        load_calibration(tmp_path / "c.toml")
    (tmp_path / "c.toml").write_text(text.replace("prl_conversion_fraction_absinta2016", "nonsense"))
    with pytest.raises(ConfigError, match="unknown observation 'nonsense'"):
        load_calibration(tmp_path / "c.toml")


def test_default_prior_comes_from_the_declaration():
    from rimmodel.config.parameters import ModelConfig

    default = ModelConfig().microglia.deactivation_rate
    prior = build_prior("microglia.deactivation_rate", {})
    assert prior.distribution.distribution == "loguniform"
    assert np.isclose(prior.distribution.low, default / 4) and np.isclose(prior.distribution.high, default * 4)
    assert "Absinta" in prior.source


def test_the_report_says_which_defaults_are_posterior_medians():
    from rimmodel.calibration.report import defaults_sentence
    from rimmodel.calibration.scoring import Identification
    from rimmodel.config.parameters import ModelConfig

    default = ModelConfig().iron.clearance_rate
    narrow, wide = (0.1, 0.5, 0.9), (0.05, 0.5, 0.95)

    def item(name, median, prior=wide, posterior=narrow):
        return Identification(name, prior, (posterior[0], median, posterior[2]), 0.3)

    assert item("iron.clearance_rate", default).identified
    calibrated = defaults_sentence([item("iron.clearance_rate", default)])
    assert "`iron.clearance_rate` is its posterior median" in calibrated
    proposed = defaults_sentence([item("iron.clearance_rate", 2.5 * default)])
    assert "not (yet) the default: `iron.clearance_rate`" in proposed and "proposal" in proposed
    unidentified = Identification("iron.clearance_rate", wide, wide, 1.0)
    assert not unidentified.identified and "unchanged" in defaults_sentence([unidentified])
