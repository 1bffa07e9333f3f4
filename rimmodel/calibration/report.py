"""After the inference: score, write files and figures, and the Markdown report (rank 0)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rimmodel.calibration import figures, outputs, scoring
from rimmodel.calibration.runner import Outcome, emulator_predictor, pooled, targets_for


@dataclass
class Written:
    report: Path
    posterior: Path
    diagnostics: Path
    calibrated: Path
    draws: Path
    checks: list
    identified: list
    reach: dict


def finish(outcome: Outcome, out_dir: Path, report_path: Path, calibrated_dir: Path) -> Written:
    cal = outcome.calibration
    seed = cal.settings.seed
    checks = [scoring.check(o, outcome.predictive[o.id], cal.settings.discrepancy, seed) for o in cal.outputs]
    identified = scoring.identification(cal.priors, outcome.posterior_unit)
    reach = _reach(outcome)
    simulated = _simulated_reach(outcome)
    figure_dir = report_path.parent / "figures"
    figure_dir.mkdir(parents=True, exist_ok=True)
    stem = f"calibration_{cal.label}"
    log_axes = [p.distribution.distribution == "loguniform" for p in cal.priors]
    draws = outputs.posterior_chains(outcome).reshape(-1, len(cal.priors))
    paths = {"corner": figures.corner_plot(figure_dir / f"{stem}_corner.png", cal.names, draws, log_axes),
             "prior": figures.prior_posterior_plot(figure_dir / f"{stem}_prior_posterior.png", cal.names,
                                                   outputs.prior_draws(outcome), draws, log_axes),
             "predictive": figures.predictive_plot(figure_dir / f"{stem}_predictive.png", checks)}
    posterior = outputs.write_inference_data(out_dir / outputs.POSTERIOR_FILE, outcome)
    diagnostics = outputs.write_diagnostics(out_dir / outputs.DIAGNOSTICS_FILE, outcome, checks, identified, reach)
    calibrated, draws_file = outputs.write_calibrated(calibrated_dir, outcome, identified)
    lines = markdown(outcome, checks, identified, reach, paths, report_path.parent, calibrated, draws_file, simulated)
    lines += ["", *kept_block(report_path, NOTES_BEGIN, NOTES_END, NOTES_DEFAULT), "", *HOW_IT_WORKS, "",
              *kept_block(report_path, BENCHMARK_BEGIN, BENCHMARK_END, BENCHMARK_DEFAULT)]
    report_path.write_text("\n".join(lines) + "\n")
    return Written(report_path, posterior, diagnostics, calibrated, draws_file, checks, identified, reach)


BENCHMARK_BEGIN, BENCHMARK_END = "<!-- benchmark:begin -->", "<!-- benchmark:end -->"
NOTES_BEGIN, NOTES_END = "<!-- notes:begin -->", "<!-- notes:end -->"
BENCHMARK_DEFAULT = ["## Benchmark", "", "Not measured yet: run `benchmarks/calibration.py`."]
NOTES_DEFAULT = ["## Reading the result", "", "(Written by hand after reading the generated sections; kept when the "
                 "report is regenerated.)"]

HOW_IT_WORKS = [
    "## How `rimmodel calibrate` works", "",
    "- **Observations** (`observations/literature.toml`): value, 90 % interval and how it was derived, units, "
    "population, citation with table/figure, status ([R] read, [D] derived, [U] unconfirmed), role (calibration, "
    "validation or not used, fixed before any fit) and the observation operator that produces the model's "
    "counterpart (`rimmodel/calibration/operators.py`).",
    "- **Cohort.** Each parameter set runs a quantile cohort of lesions differing in one lesion-level parameter "
    "(log-sd `cohort.heterogeneity`); population quantities (median rim survival, share of lesions with a rim at "
    "a given time) are read off the interpolated lifetime-quantile curve, so every operator is continuous in the "
    "parameters. `calibration.model = \"rimmodel\"` runs the lesions on the model's geometry one at a time; "
    "`\"radial\"` runs them as isolated spherical lesions (docs/radial.md), the cohorts of `calibration.batch` "
    "parameter sets advanced together as one radial batch, about a hundred times cheaper per lesion.",
    "- **Emulator path.** A Latin hypercube on the prior, then history-matching waves drawn from the not-ruled-out "
    "space (implausibility < cutoff), each wave a study directory run by `run_study` (MPI groups, journals, "
    "resume: rerunning the command skips every journaled run; a batch directory made with another calibration "
    "file or other observation operators is refused, nothing in it touched); a Gaussian process per observable "
    "(scikit-learn; exact leave-one-out errors; the fits shared out over the ranks); emcee on the emulated "
    "likelihood, whose variance adds emulator, observation and model-discrepancy variances, with "
    "differential-evolution proposals (`mcmc.moves`; they follow the ridges between parameters where the stretch "
    "move stalls, benchmarks/mcmc_moves.py). emcee runs until "
    "converged (kept chain at least 50 autocorrelation times after a burn-in of 5, R-hat <= 1.01, bulk and tail "
    "ESS >= 400; `[mcmc]` sets these, and a run that reaches the cap `steps` is reported as not converged in "
    "`diagnostics.json` and here).",
    "- **ABC path.** ABC-SMC on the simulator (`method = \"abc\"`), each generation a study batch; stochastic "
    "Gaussian acceptance, exact under the same error model once eps = 1 (Wilkinson 2013). The implementation is "
    "rimmodel's own, so that generations resume from journals; it is tested against the closed-form posterior of a "
    "linear-Gaussian problem.",
    "- **Outputs.** `posterior.nc` (ArviZ InferenceData groups as an xarray DataTree in netCDF: posterior, prior, "
    "sample_stats, observed_data, posterior_predictive), `diagnostics.json`, the figures below, and "
    "`<name>.toml` (posterior medians) with `<name>_draws.csv`. By default the report and the calibrated set "
    "stay in the run directory; the project's own are written with `--report docs/calibration.md "
    "--calibrated-dir experiments/calibrated`.",
    "- **Proof** (`tests/test_calibration*.py`): MCMC and ABC-SMC reproduce a conjugate posterior; the GP's "
    "leave-one-out formula equals refitting; history matching keeps the truth; recovery puts the truth inside the "
    "90 % intervals and the posterior narrows with more data; simulation-based calibration ranks are uniform.",
]


def kept_block(report_path: Path, begin: str, end: str, default: list[str]) -> list[str]:
    """A hand-written or benchmark-written block of the report survives regenerating it."""
    if report_path.exists():
        text = report_path.read_text()
        if begin in text and end in text:
            start, stop = text.index(begin), text.index(end) + len(end)
            return text[start:stop].splitlines()
    return [begin, *default, end]


def _simulated_reach(outcome: Outcome) -> dict:
    """Joint reach on the parameter sets actually run: exact model values, no emulator variance."""
    cal = outcome.calibration
    _, values = pooled(outcome.batches, cal.calibrate)
    return scoring.joint_reach(targets_for(cal.calibrate, cal.settings.discrepancy), values, np.zeros_like(values),
                               cal.design.cutoff)


def _reach(outcome: Outcome) -> dict:
    """Joint reach of the calibration targets: on emulated Sobol' points, or on ABC's simulations."""
    cal = outcome.calibration
    targets = targets_for(cal.calibrate, cal.settings.discrepancy)
    if outcome.emulators:
        from scipy.stats import qmc

        sobol = qmc.Sobol(len(cal.priors), rng=np.random.default_rng(cal.settings.seed))
        unit = sobol.random_base2(max(1, int(np.ceil(np.log2(cal.design.candidates)))))
        mean, variance = emulator_predictor([outcome.emulators[o.id] for o in cal.calibrate])(unit)
        return scoring.joint_reach(targets, mean, variance, cal.design.cutoff)
    _, values = pooled(outcome.batches, cal.calibrate)
    return scoring.joint_reach(targets, values, np.zeros_like(values), cal.design.cutoff)


def _relative(path: Path, start: Path) -> str:
    import os

    return os.path.relpath(path, start)


def markdown(outcome: Outcome, checks, identified, reach, figure_paths, doc_dir: Path, calibrated: Path,
             draws_file: Path, simulated: dict | None = None) -> list[str]:
    cal = outcome.calibration
    today = datetime.date.today().isoformat()
    method = {"emulator": "Gaussian-process emulators, history matching and emcee MCMC",
              "abc": "ABC-SMC on the model (Gaussian acceptance kernel, exact under the error model at eps = 1)"}
    lines = [f"# Calibration: {cal.label}", "",
             f"Generated by `rimmodel calibrate {cal.path}` on {today}: {method[outcome.method]}. "
             f"{outcome.model_runs} model runs ({sum(int(b.completed.size) for b in outcome.batches)} parameter "
             f"sets; model time {sum(float(np.nansum(b.wall_s)) for b in outcome.batches) / 60:.1f} min summed over "
             f"groups, as journaled), {outcome.wall_s / 60:.1f} min wall for this invocation (a rerun reuses every "
             f"journaled run). Files: `{outcome.method}` outputs in the run directory "
             f"(`posterior.nc`, `diagnostics.json`), calibrated set `{calibrated}` and draws `{draws_file}`. "
             + defaults_sentence(identified), "", "## What was fitted", "",
             "| observation | value | 90 % interval | status | source | operator |", "|---|---|---|---|---|---|"]
    for o in cal.calibrate:
        lines.append(f"| {o.id} | {o.value:g} {o.units} | {o.interval[0]:g}–{o.interval[1]:g} ({o.interval_kind}) "
                     f"| {o.status} | {o.citation}; {o.location} | `{o.operator}` {o.arguments or ''} |")
    lines += ["", f"Likelihood: Gaussian on each observation's scale with the observation sd from its interval, "
              f"a model-discrepancy sd of {cal.settings.discrepancy:g} on that scale"
              + (" and the emulator's variance" if outcome.emulators else "") + ".", "",
              "| parameter | prior (source) | prior 90 % | posterior median | posterior 90 % | sd ratio | identified |",
              "|---|---|---|---|---|---|---|"]
    for prior, item in zip(cal.priors, identified):
        lines.append(f"| `{item.name}` | {prior.describe()} ({prior.source}) | {item.prior[0]:.3g}–{item.prior[2]:.3g} "
                     f"| **{item.posterior[1]:.4g}** | {item.posterior[0]:.3g}–{item.posterior[2]:.3g} "
                     f"| {item.contraction:.2f} | {'yes' if item.identified else 'no'} |")
    lines += ["", "sd ratio: posterior over prior standard deviation in the prior's unit space (1: the data say "
              f"nothing; below {scoring.UNIDENTIFIED}: identified).", ""]
    lines += _diagnostics(outcome)
    lines += ["## Posterior-predictive checks", "",
              "Model: the model counterpart at posterior draws (90 %); measurement: the same plus discrepancy and "
              "observation error. Validation targets were fixed in the observation file before the fit and "
              "were not fitted.", "",
              "| observation | role | observed | model 5–50–95 % | new measurement 90 % | standardised | consistent |",
              "|---|---|---|---|---|---|---|"]
    for c in checks:
        o = c.observation
        observed = f"> {o.value:g}" if o.lower_bound_only else f"{o.value:g} ({o.interval[0]:g}–{o.interval[1]:g})"
        lines.append(f"| {o.id} [{o.status}] | {o.role} | {observed} {o.units} | {c.model[0]:.3g} – {c.model[1]:.3g} – "
                     f"{c.model[2]:.3g} | {c.measurement[0]:.3g}–{c.measurement[1]:.3g} | "
                     f"{'–' if o.lower_bound_only else f'{c.standardised:+.2f}'} | "
                     f"{'yes' if c.consistent else '**no**'} |")
    lines += ["", f"![predictive]({_relative(figure_paths['predictive'], doc_dir)})", ""]
    lines += ["## What the model cannot meet together", ""]
    conflicts = scoring.conflicts(reach)
    lines += [f"Share of the prior space within implausibility {cal.design.cutoff:g} of each target: "
              + ", ".join(f"{k} {100 * v:.1f} %" for k, v in reach["single"].items())
              + f"; of all at once: {100 * reach['all']:.2f} %.", ""]
    lines += [f"- {line}" for line in conflicts] or ["- No conflict: some parameter sets come within the cutoff of "
                                                     "every target at once."]
    if simulated is not None and outcome.emulators:
        runs = sum(int(b.completed.sum()) for b in outcome.batches)
        lines += ["", f"The same on the {runs} parameter sets actually run (model values, no emulator variance; "
                  "the history-matching waves put them where the emulators saw promise): "
                  + ", ".join(f"{k} {100 * v:.0f} %" for k, v in simulated["single"].items())
                  + "; pairs: " + ", ".join(f"{a} & {b} {100 * v:.0f} %" for (a, b), v in simulated["pairs"].items())
                  + f"; all at once: {100 * simulated['all']:.0f} %."]
        lines += [f"- On the runs: {line}" for line in scoring.conflicts(simulated)]
    missed = [c for c in checks if not c.consistent]
    lines += [""] + ([f"- Missed after the fit: {', '.join(c.observation.id for c in missed)}."] if missed else [])
    lines += ["", "## Unidentified parameters", "",
              ", ".join(f"`{i.name}`" for i in identified if not i.identified) or "None: every parameter moved.", "",
              f"![prior vs posterior]({_relative(figure_paths['prior'], doc_dir)})", "",
              f"![corner]({_relative(figure_paths['corner'], doc_dir)})", "",
              "## Observations not used", ""]
    lines += [f"- {o.id} ({o.value:g} {o.units}; {o.citation}): {o.reason}"
              for o in cal.observations.values() if o.role == "not_used"]
    return lines


def convergence_lines(chains) -> list[str]:
    """The sampler's verdict, first thing under Diagnostics: converged, or plainly not."""
    head = (f"emcee: {chains.unit.shape[0]} walkers, {chains.steps} steps each, of which {chains.burn} burn-in "
            f"and {chains.unit.shape[1]} kept; mean acceptance {chains.acceptance.mean():.2f}. "
            f"Convergence criteria: {chains.criteria.describe()}; cap {chains.max_steps} steps.")
    if chains.converged:
        return [head, "", "**MCMC converged**: every criterion met."]
    return [head, "", "**MCMC not converged**: " + "; ".join(chains.failures)
            + ". The posterior summaries below are indicative only."]


def defaults_sentence(identified) -> str:
    """Which declared defaults (rimmodel/config/parameters.py) are the posterior medians: an identified
    parameter whose default equals its median to 4 significant digits is calibrated; any other
    identified one is a proposal; unidentified ones keep their (prior-based) defaults."""
    from rimmodel.config.parameters import ModelConfig

    defaults, calibrated, proposed = ModelConfig(), [], []
    for item in identified:
        section, _, key = item.name.partition(".")
        default = getattr(getattr(defaults, section, None), key, None) if key else None
        if not item.identified or not isinstance(default, float):
            continue
        (calibrated if f"{default:.4g}" == f"{item.posterior[1]:.4g}" else proposed).append((item.name, default))
    parts = []
    if calibrated:
        names = ", ".join(f"`{name}`" for name, _ in calibrated)
        parts.append(f"The default in `rimmodel/config/parameters.py` of the identified parameter {names} is its "
                     "posterior median below (its source points here)." if len(calibrated) == 1 else
                     f"The defaults in `rimmodel/config/parameters.py` of the identified parameters {names} are "
                     "their posterior medians below (their sources point here).")
    if proposed:
        parts.append("Identified but not (yet) the default: " + ", ".join(f"`{name}` (default {value:.4g})"
                     for name, value in proposed) + "; the posterior median below is a proposal.")
    return " ".join(parts) or ("No parameter is identified: the defaults in `rimmodel/config/parameters.py` "
                               "are unchanged.")


def _diagnostics(outcome: Outcome) -> list[str]:
    lines = ["## Diagnostics", ""]
    if outcome.chains is not None:
        lines += [*convergence_lines(outcome.chains), "",
                  "| parameter | R-hat | ESS bulk | ESS tail | autocorrelation (steps) |", "|---|---|---|---|---|"]
        for name, d in outcome.diagnostics.items():
            lines.append(f"| `{name}` | {d['r_hat']:.3f} | {d['ess_bulk']:.0f} | {d['ess_tail']:.0f} | "
                         f"{d['autocorrelation_steps']:.1f} |")
        lines += ["", "History matching: not-ruled-out share of the prior space after each wave: "
                  + ", ".join(f"{100 * f:.1f} %" for f in outcome.nroy_fractions) + ".", "",
                  "| emulated observable | design points | LOO RMSE | LOO RMSE / spread | within 2 sd |",
                  "|---|---|---|---|---|"]
        for name, emulator in outcome.emulators.items():
            loo = emulator.leave_one_out()
            lines.append(f"| {name} | {emulator.unit.shape[0]} | {loo.rmse:.3g} | {loo.relative_rmse:.2f} | "
                         f"{100 * loo.coverage_2sd:.0f} % |")
        lines += ["", "LOO errors are on each observation's likelihood scale (log, logit or linear).", ""]
    if outcome.abc_result is not None:
        lines += ["| ABC generation | eps | accepted | effective size | simulations |", "|---|---|---|---|---|"]
        for k, g in enumerate(outcome.abc_result.generations):
            lines.append(f"| {k + 1} | {g.tolerance:.3g} | {g.unit.shape[0]} | {g.effective_size:.0f} | {g.simulations} |")
        lines += ["", "eps = 1 is exact inference under the error model." if outcome.abc_result.exact else
                  "**eps did not reach 1: the posterior is a tempered (wider) approximation.**", ""]
    return lines
