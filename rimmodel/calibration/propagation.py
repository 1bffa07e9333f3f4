"""Carry the posterior into a virtual trial: rerun the trial's cohort under each of a few posterior
draws, so effect sizes carry parametric as well as cohort uncertainty.

For each draw the calibrated model parameters replace the trial's base model values (``cohort.*``
entries are calibration-only and skipped); lesion draws, arms and seeds stay those of the trial.
The summary gives, per arm, the median and 90 % range over draws of the point estimates (the
parametric spread) next to the median within-draw 95 % bootstrap interval (the cohort spread).
"""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import numpy as np

from rimmodel.calibration.outputs import read_draws


def draws_for_trial(path: str | Path, count: int, seed: int) -> list[dict[str, float]]:
    draws = read_draws(path)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(draws), size=min(count, len(draws)), replace=False))
    return [{k: v for k, v in draws[i].items() if not k.startswith("cohort.")} for i in chosen]


def with_draw(trial, draw: dict[str, float]):
    """The trial under one draw. A parameter the trial spreads log-normally over lesions keeps its
    spread around the drawn value (its median); a uniformly spread one keeps the trial's range."""
    varied = copy.deepcopy(trial)
    for dotted, value in draw.items():
        spread = varied.cohort.get(dotted)
        if spread is not None and spread.kind == "lognormal":
            spread.median = value
        elif spread is None:
            section, key = dotted.split(".", 1)
            varied.model.setdefault(section, {})[key] = value
    return varied


def run_trial_over_draws(trial, draws_file: Path, count: int, out_dir: Path, comm) -> Path | None:
    """Run the trial once per chosen draw; returns the summary file (rank 0). Collective."""
    from rimmodel.trial.runner import PLACEBO, run_trial
    from rimmodel.trial.statistics import rate_ratio, relative_reduction

    rows = []
    for k, draw in enumerate(draws_for_trial(draws_file, count, trial.seed)):
        outcomes = run_trial(with_draw(trial, draw), out_dir / f"draw-{k:03d}", comm)
        placebo = outcomes[PLACEBO]
        for arm, lesions in outcomes.items():
            if arm == PLACEBO:
                continue
            rng = np.random.default_rng(trial.seed)
            reduction = relative_reduction(np.array([o.expansion_rate for o in placebo]),
                                           np.array([o.expansion_rate for o in lesions]), rng, trial.bootstrap)
            ratio = rate_ratio([o.event_time for o in placebo], [o.event_time for o in lesions], trial.years, rng,
                               trial.bootstrap)
            rows.append({"draw": k, "arm": arm, **draw, "reduction": reduction.estimate, "reduction_low": reduction.low,
                         "reduction_high": reduction.high, "rate_ratio": ratio.estimate, "rate_ratio_low": ratio.low,
                         "rate_ratio_high": ratio.high})
    if comm.rank != 0:
        return None
    with (out_dir / "effects_over_draws.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return write_summary(out_dir / "parametric_uncertainty.md", rows, draws_file)


def write_summary(path: Path, rows: list[dict], draws_file: Path) -> Path:
    lines = ["# Effect sizes over posterior draws", "",
             f"{len({r['draw'] for r in rows})} draws from `{draws_file}`; per draw, the trial's own cohort and "
             "bootstrap. Parametric: median and 5–95 % of the point estimates over draws. Cohort: median over draws "
             "of the within-draw 95 % bootstrap interval.", "",
             "| arm | reduction: median over draws | parametric 5–95 % | cohort 95 % (median) | rate ratio: median "
             "| parametric 5–95 % | cohort 95 % (median) |", "|---|---|---|---|---|---|---|"]
    for arm in dict.fromkeys(r["arm"] for r in rows):
        mine = [r for r in rows if r["arm"] == arm]
        red, rr = np.array([r["reduction"] for r in mine]), np.array([r["rate_ratio"] for r in mine])
        lines.append(f"| {arm} | {100 * np.median(red):.0f} % | {100 * np.percentile(red, 5):.0f}–"
                     f"{100 * np.percentile(red, 95):.0f} % | {100 * np.median([r['reduction_low'] for r in mine]):.0f}–"
                     f"{100 * np.median([r['reduction_high'] for r in mine]):.0f} % | {np.median(rr):.2f} | "
                     f"{np.percentile(rr, 5):.2f}–{np.percentile(rr, 95):.2f} | "
                     f"{np.median([r['rate_ratio_low'] for r in mine]):.2f}–"
                     f"{np.median([r['rate_ratio_high'] for r in mine]):.2f} |")
    path.write_text("\n".join(lines) + "\n")
    return path
