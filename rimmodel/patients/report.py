"""The trial's outputs: report.md, results.json, patients.csv, sensitivity.csv, the incidence figure."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from pathlib import Path

import numpy as np

from rimmodel.patients.analysis import Estimate, cumulative_incidence_figure
from rimmodel.patients.disability import COMPONENTS
from rimmodel.patients.run import TrialRun

FIGURE = "cumulative_incidence.png"


def write_outputs(run: TrialRun, out_dir: Path) -> Path:
    """Serial I/O: call on one rank."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "design.toml").write_text(run.design.source)
    _patients_csv(out_dir / "patients.csv", run)
    _sensitivity_csv(out_dir / "sensitivity.csv", run)
    (out_dir / "results.json").write_text(json.dumps(results_dict(run), indent=1, default=_json_default))
    cumulative_incidence_figure(out_dir / FIGURE, run.first_table, run.names,
                                f"{run.design.design.name}\nconfirmed disability worsening, first replicate trial")
    path = out_dir / "report.md"
    path.write_text("\n".join(report_lines(run)) + "\n")
    return path


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(type(value))


def results_dict(run: TrialRun) -> dict:
    return {"design": run.design.design.name, "arms": run.names, "draws": run.draws_source,
            "library": dataclasses.asdict(run.library) | {"path": str(run.library_path)},
            "calibration": dataclasses.asdict(run.calibration), "component_norms": dict(zip(COMPONENTS, run.norms)),
            "component_means": {arm: dict(zip(COMPONENTS, values)) for arm, values in run.component_means.items()},
            "replicates": [dataclasses.asdict(result) for result in run.results],
            "summary": replicate_summary(run),
            "sensitivity": [dataclasses.asdict(row) for row in run.sensitivity], "timings": run.timings}


def replicate_summary(run: TrialRun) -> dict:
    """Per treated arm: median and 2.5-97.5 % of each effect over the replicate trials, and the share of
    replicates whose hazard ratio is significantly below 1 (power)."""
    summary = {}
    for name in run.names[1:]:
        entry = {}
        for field in ("hazard_ratio", "relapse_rate_ratio", "t2_rate_ratio", "sel_ratio"):
            values = np.array([getattr(result.comparisons[name], field).value for result in run.results])
            finite = values[np.isfinite(values)]
            entry[field] = [float(v) for v in np.percentile(finite, [50, 2.5, 97.5])] if finite.size else None
        significant = [r.comparisons[name].hazard_ratio for r in run.results]
        entry["power"] = float(np.mean([e.high < 1.0 for e in significant if not e.missing])) if significant else None
        summary[name] = entry
    return summary


def _estimate(e: Estimate, digits: int = 2) -> str:
    if e.missing:
        return f"– ({e.note})"
    if not (np.isfinite(e.low) and np.isfinite(e.high)):
        return f"{e.value:.{digits}f}"
    p = f", p = {e.p:.2g}" if np.isfinite(e.p) else ""
    return f"{e.value:.{digits}f} ({e.low:.{digits}f}–{e.high:.{digits}f}{p})"


def _spread(values) -> str:
    return "–" if values is None else f"{values[0]:.2f} [{values[1]:.2f}–{values[2]:.2f}]"


def report_lines(run: TrialRun) -> list[str]:
    d = run.design
    first = run.results[0]
    follow = d.follow_up
    conduct = (f"fixed follow-up of {follow.years:g} yr" if follow.kind == "fixed" else
               f"event-driven: closes at {follow.target_events} confirmed events, each patient at most "
               f"{follow.years:g} yr")
    arms = ", ".join(f"{plan.name} ({_regimen(d, plan)})" for plan in run.plans)
    lines = [f"# {d.design.name}", "",
             f"{d.design.patients} {d.population.phenotype} patients randomised "
             f"{':'.join(str(w) for w in [d.randomisation.placebo_allocation, *(a.allocation for a in d.arms)])} to "
             f"{arms}; enrolment over {follow.accrual:g} yr, {conduct}, drop-out {follow.dropout:g}/yr; EDSS every "
             f"{d.visits.edss_interval * 12:g} months, MRI every {d.visits.mri_interval * 12:g} months. "
             f"Seed {d.design.seed}; {d.design.replicates} replicate trial(s). Parameters: {run.draws_source}.", "",
             f"Lesion courses: {_library_runs(run)} ({run.library.runs} solved for this trial, "
             f"{run.library.cached} from `{run.library_path}`), {run.timings['library_s']:.1f} s; baseline lesions "
             f"up to {d.history.lesion_age_max:g} yr old. Patients and analysis: {run.timings['trials_s']:.1f} s; "
             f"calibration {run.timings['calibration_s']:.1f} s; sensitivity {run.timings['sensitivity_s']:.1f} s.", "",
             *_calibration_lines(run), "", "## Baseline", "", *_baseline_table(run), "",
             "## Primary endpoint: time to confirmed disability worsening", "",
             f"Worsening: EDSS +{d.endpoints.step_at_or_below_cutoff:g} from a baseline ≤ {d.endpoints.edss_cutoff:g}, "
             f"+{d.endpoints.step_above_cutoff:g} above (+{d.endpoints.step_from_zero:g} from 0), confirmed at the "
             f"first visit ≥ {d.endpoints.confirmation * 12:g} months later"
             f"{' and at every visit between' if d.endpoints.sustained else ''}. Cox proportional hazards, "
             f"treated vs placebo. Median follow-up and closing day: {_follow(run)}.", "",
             "| arm | events / patients | proportion | hazard ratio vs placebo (95 % CI), first trial | "
             "over replicate trials: median [2.5–97.5 %] | replicates with upper CI < 1 |", "|---|---|---|---|---|---|"]
    summary = replicate_summary(run)
    for name, arm in first.arms.items():
        if name == run.names[0]:
            lines.append(f"| {name} | {arm.events} / {arm.patients} | {arm.event_proportion:.1%} | – | – | – |")
        else:
            lines.append(f"| {name} | {arm.events} / {arm.patients} | {arm.event_proportion:.1%} | "
                         f"{_estimate(first.comparisons[name].hazard_ratio)} | "
                         f"{_spread(summary[name]['hazard_ratio'])} | {summary[name]['power']:.0%} |")
    lines += ["", f"![cumulative incidence]({FIGURE})", "", "## Relapses and MRI", "",
              "| arm | relapses / yr | new or enlarging T2 / yr | SELs per patient | "
              "rim-active lesions, baseline → end "
              "| brain volume change (%) |", "|---|---|---|---|---|---|"]
    for name, arm in first.arms.items():
        lines.append(f"| {name} | {arm.relapses_per_year:.3f} | {arm.t2_per_year:.2f} | {arm.sel_per_patient:.2f} | "
                     f"{arm.rim_lesions_baseline:.2f} → {arm.rim_lesions_final:.2f} | {arm.brain_volume_change:.2f} |")
    lines += ["", "| treated arm | relapse rate ratio (95 % CI) | new/enlarging T2 rate ratio | SEL rate ratio |",
              "|---|---|---|---|"]
    for name, comparison in first.comparisons.items():
        lines.append(f"| {name} | {_estimate(comparison.relapse_rate_ratio)} | {_estimate(comparison.t2_rate_ratio)} | "
                     f"{_estimate(comparison.sel_ratio)} |")
    lines += ["", "Rate ratios: negative-binomial regression with log follow-up as offset (statsmodels).", "",
              *_published_lines(run), *_component_lines(run), *_sensitivity_lines(run)]
    return lines


def _regimen(design, plan) -> str:
    if plan.kind == "placebo":
        return "placebo"
    arm = next(a for a in design.arms if a.name == plan.name)
    parts = ([f"{arm.drug}-like {arm.dose_mg:g} mg every {arm.interval_h:g} h, CNS occupancy "
              f"{plan.course.mean_cns(design.follow_up.years):.2f}"] if plan.kind == "btk" else ["anti-inflammatory"])
    if arm.inflammation_rate_ratio != 1.0:
        parts.append(f"new lesions and relapses × {arm.inflammation_rate_ratio:g}")
    return ", ".join(parts)


def _follow(run: TrialRun) -> str:
    table = run.first_table
    median = np.median(table.follow_up)
    return f"{median:.2f} yr ({median * 52.18:.0f} weeks), closed at {table.closeout:.2f} yr"


def _library_runs(run) -> str:
    """"12 radial + 38 section runs" (white-matter model per ``lesion_library.model``)."""
    parts = run.library.by_model or {"section": {"runs": run.library.runs, "cached": run.library.cached}}
    return " + ".join(f"{value['runs'] + value['cached']} {model}" for model, value in parts.items()) + " lesion runs"


def _calibration_lines(run: TrialRun) -> list[str]:
    c = run.calibration
    cohort = run.design.calibration.patients
    if math.isnan(c.target):
        return [f"Disability scale given (not calibrated): G = {c.scale:.3f} EDSS points by "
                f"{run.design.disability.reference_time:g} yr; {cohort} placebo patients reach {c.achieved:.1%} "
                f"confirmed worsening by {c.follow_up:g} yr (noise and relapses alone: {c.floor:.1%})."]
    source = f" ({run.design.calibration.source})" if run.design.calibration.source else ""
    if c.floor >= c.target:
        return [f"Calibration failed to reach its target from above: measurement noise and relapses alone already "
                f"give {c.floor:.1%} confirmed worsening by {c.follow_up:g} yr in {cohort} placebo patients (target "
                f"{c.target:.1%}{source}), so G = 0 and no damage shows in the endpoint. Lower "
                "disability.measurement_sd or check the target."]
    return [f"Calibration: the disability scale G is the one number fitted: {c.scale:.3f} EDSS points of mean "
            f"untreated worsening by {run.design.disability.reference_time:g} yr brings a separate cohort of {cohort} "
            f"placebo patients to {c.achieved:.1%} confirmed worsening by {c.follow_up:g} yr (target {c.target:.1%}"
            f"{source}; measurement noise and relapses alone give {c.floor:.1%}). Every treatment effect below is "
            "a prediction."]


def _baseline_table(run: TrialRun) -> list[str]:
    table, courses = run.first_table, run.first_courses
    lines = ["| arm | patients | age | EDSS (measured) | T2 lesions | rim lesions | follicle-positive |",
             "|---|---|---|---|---|---|---|"]
    for i, name in enumerate(run.names):
        chosen = [c for c in courses if c.arm == i]
        mask = table.arm == i
        lines.append(f"| {name} | {len(chosen)} | {np.mean([c.age for c in chosen]):.1f} | "
                     f"{np.mean(table.baseline_edss[mask]):.2f} | {np.mean([c.lesions for c in chosen]):.1f} | "
                     f"{np.mean([c.rim_lesions for c in chosen]):.2f} | "
                     f"{np.mean([c.follicle_area > 0 for c in chosen]):.0%} |")
    return lines


PREDICTIONS = {
    "cdw_hazard_ratio": lambda r, arm: r.comparisons[arm].hazard_ratio,
    "t2_rate_ratio": lambda r, arm: r.comparisons[arm].t2_rate_ratio,
    "relapse_rate_ratio": lambda r, arm: r.comparisons[arm].relapse_rate_ratio,
    "placebo_cdw_proportion": lambda r, arm: Estimate(next(iter(r.arms.values())).event_proportion),
    "treated_cdw_proportion": lambda r, arm: Estimate(r.arms[arm].event_proportion),
    "placebo_t2_per_year": lambda r, arm: Estimate(next(iter(r.arms.values())).t2_per_year),
    "treated_t2_per_year": lambda r, arm: Estimate(r.arms[arm].t2_per_year),
}


def _published_lines(run: TrialRun) -> list[str]:
    if not run.design.references:
        return []
    lines = ["## Beside the published trial", "", "| endpoint | arm | model (first trial) | published | source |",
             "|---|---|---|---|---|"]
    for ref in run.design.references:
        arm = ref.arm or run.names[1]
        model = PREDICTIONS[ref.endpoint](run.results[0], arm)
        if ref.endpoint.startswith("placebo"):
            arm = run.names[0]
        interval = f" ({ref.low:g}–{ref.high:g})" if np.isfinite(ref.low) and np.isfinite(ref.high) else ""
        lines.append(f"| {ref.endpoint} | {arm} | {_estimate(model)} | {ref.value:g}{interval} | {ref.source} |")
    return [*lines, ""]


def _component_lines(run: TrialRun) -> list[str]:
    """Where the effect comes from: each component's treated/placebo ratio and its share of worsening."""
    d = run.design.disability
    shares = dict(zip(COMPONENTS, (d.lesion_share, d.cortex_share, d.tissue_share, d.ageing_share)))
    placebo = run.component_means[run.names[0]]
    lines = ["## Where the effect comes from", "",
             f"Mean damage components at {d.reference_time:g} yr, treated / placebo (first trial), and the share of "
             "untreated worsening each carries in the disability model. A lesion-level read-out sees one row; the "
             "disability endpoint sees their share-weighted sum, diluted further by measurement noise, the "
             "step-and-confirm rule and patients whose worsening has other causes.", "",
             "| component | share | " + " | ".join(run.names[1:]) + " |", "|---|---|" + "---|" * len(run.names[1:])]
    for k, component in enumerate(COMPONENTS):
        ratios = [run.component_means[name][k] / placebo[k] if placebo[k] > 0 else float("nan")
                  for name in run.names[1:]]
        lines.append(f"| {component} | {shares[component]:.2f} | " + " | ".join(f"{r:.2f}" for r in ratios) + " |")
    weighted = []
    for name in run.names[1:]:
        ratio = [run.component_means[name][k] / placebo[k] if placebo[k] > 0 else 1.0 for k in range(len(COMPONENTS))]
        weighted.append(sum(shares[c] * r for c, r in zip(COMPONENTS, ratio)))
    lines.append("| share-weighted worsening | 1.00 | " + " | ".join(f"{w:.2f}" for w in weighted) + " |")
    return [*lines, ""]


def _sensitivity_lines(run: TrialRun) -> list[str]:
    if not run.sensitivity:
        return []
    treated = run.names[1:]
    lines = ["## Sensitivity of the hazard ratio to the disability model", "",
             "Each row changes one documented choice, recalibrates the scale to the same placebo target and "
             "re-reads the same simulated patients.", "",
             "| variant | scale G | placebo events (calibration cohort / trial) | " +
             " | ".join(f"HR {name}: first trial (95 % CI); median [2.5–97.5 %] over replicates" for name in treated)
             + " |", "|---|---|---|" + "---|" * len(treated)]
    for row in run.sensitivity:
        if row.note:
            lines.append(f"| {row.label} | – | – | " + " | ".join(f"not evaluated: {row.note}" for _ in treated) + " |")
            continue
        cells = []
        for name in treated:
            hr, low, high, median, p_low, p_high = row.hazard_ratio[name]
            cells.append(f"{hr:.2f} ({low:.2f}–{high:.2f}); {median:.2f} [{p_low:.2f}–{p_high:.2f}]")
        floor = " (noise alone exceeds the target: G = 0)" if row.scale == 0.0 else ""
        lines.append(f"| {row.label}{floor} | {row.scale:.3f} | "
                     f"{row.placebo_calibrated:.1%} / {row.placebo_proportion:.1%} | "
                     + " | ".join(cells) + " |")
    return [*lines, ""]


def _patients_csv(path: Path, run: TrialRun) -> None:
    table = run.first_table
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient", "arm", "age", "baseline_edss", "final_edss", "lesions", "rim_lesions",
                         "follicle_area_mm2", "draw", "follow_up_yr", "event", "time_yr", "relapses",
                         "new_or_enlarging_t2", "sel", "rim_active_end", "brain_volume_change_pct"])
        for i, course in enumerate(run.first_courses):
            writer.writerow([course.index, run.names[course.arm], f"{course.age:.2f}", table.baseline_edss[i],
                             table.final_edss[i], course.lesions, course.rim_lesions, f"{course.follicle_area:.1f}",
                             course.draw, f"{table.follow_up[i]:.3f}", int(table.event[i]), f"{table.time[i]:.3f}",
                             int(table.relapses[i]), int(table.new_or_enlarging[i]), int(table.sel[i]),
                             int(table.rim_final[i]), f"{table.brain_volume_change[i]:.4f}"])


def _sensitivity_csv(path: Path, run: TrialRun) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["variant", "scale", "placebo_calibrated", "placebo_trial", "arm", "hr", "low", "high",
                         "median_over_replicates", "p2.5", "p97.5"])
        for row in run.sensitivity:
            for arm, values in row.hazard_ratio.items():
                writer.writerow([row.label, row.scale, row.placebo_calibrated, row.placebo_proportion, arm, *values])
