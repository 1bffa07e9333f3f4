"""The analysis trial papers report, per treated arm against placebo.

* time to confirmed disability worsening: Cox proportional-hazards hazard ratio with its 95 % CI
  (lifelines, Efron ties), events and Kaplan-Meier cumulative incidence per arm;
* annualised relapse rate and new/enlarging T2 lesions per year: negative-binomial regression
  with log follow-up as offset (statsmodels), rate ratio with its 95 % CI;
* SELs, rim-active lesions and brain-volume change at the last scan, per arm.
An estimate that cannot be made (no events, no relapses) is reported as missing with the reason.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from rimmodel.patients.conduct import TrialTable


@dataclass
class Estimate:
    value: float
    low: float = float("nan")
    high: float = float("nan")
    p: float = float("nan")
    note: str = ""

    @property
    def missing(self) -> bool:
        return not np.isfinite(self.value)


@dataclass
class ArmSummary:
    patients: int
    events: int
    event_proportion: float
    relapses_per_year: float
    t2_per_year: float
    sel_per_patient: float
    rim_lesions_baseline: float
    rim_lesions_final: float
    brain_volume_change: float
    median_follow_up: float


@dataclass
class Comparison:
    hazard_ratio: Estimate
    relapse_rate_ratio: Estimate
    t2_rate_ratio: Estimate
    sel_ratio: Estimate


@dataclass
class TrialResult:
    arms: dict[str, ArmSummary]
    comparisons: dict[str, Comparison]
    closeout: float
    extra: dict = field(default_factory=dict)


def analyse(table: TrialTable, names: list[str]) -> TrialResult:
    arms = {name: summarise(table, table.arm == i) for i, name in enumerate(names)}
    comparisons = {}
    for i, name in enumerate(names[1:], start=1):
        pair = (table.arm == 0) | (table.arm == i)
        treated = (table.arm[pair] == i).astype(float)
        comparisons[name] = Comparison(
            cox_hazard_ratio(table.time[pair], table.event[pair], treated),
            rate_ratio(table.relapses[pair], table.follow_up[pair], treated),
            rate_ratio(table.new_or_enlarging[pair], table.scan_years[pair], treated),
            rate_ratio(table.sel[pair], table.scan_years[pair], treated))
    return TrialResult(arms, comparisons, table.closeout)


def summarise(table: TrialTable, chosen: np.ndarray) -> ArmSummary:
    def per_year(counts, years):
        total = years[chosen].sum()
        return float(counts[chosen].sum() / total) if total > 0 else float("nan")

    return ArmSummary(int(chosen.sum()), int(table.event[chosen].sum()), float(table.event[chosen].mean()),
                      per_year(table.relapses, table.follow_up), per_year(table.new_or_enlarging, table.scan_years),
                      float(table.sel[chosen].mean()), float(table.rim_baseline[chosen].mean()),
                      float(table.rim_final[chosen].mean()), float(table.brain_volume_change[chosen].mean()),
                      float(np.median(table.follow_up[chosen])))


def cox_hazard_ratio(time: np.ndarray, event: np.ndarray, treated: np.ndarray) -> Estimate:
    import pandas as pd
    from lifelines import CoxPHFitter

    if event[treated == 1].sum() == 0 or event[treated == 0].sum() == 0:
        return Estimate(float("nan"), note=f"not estimable: {int(event[treated == 1].sum())} treated and "
                        f"{int(event[treated == 0].sum())} placebo events")
    frame = pd.DataFrame({"time": np.maximum(time, 1e-6), "event": event.astype(int), "treated": treated})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = CoxPHFitter().fit(frame, duration_col="time", event_col="event")
    row = fit.summary.loc["treated"]
    return Estimate(float(row["exp(coef)"]), float(row["exp(coef) lower 95%"]), float(row["exp(coef) upper 95%"]),
                    float(row["p"]))


def rate_ratio(counts: np.ndarray, years: np.ndarray, treated: np.ndarray) -> Estimate:
    """Negative-binomial regression of counts on arm with log(years) as offset; the arm's rate ratio."""
    import statsmodels.api as sm

    keep = years > 0
    counts, years, treated = counts[keep], years[keep], treated[keep]
    if counts[treated == 1].sum() == 0 or counts[treated == 0].sum() == 0:
        return Estimate(float("nan"), note=f"not estimable: {int(counts[treated == 1].sum())} treated and "
                        f"{int(counts[treated == 0].sum())} placebo counts")
    design = sm.add_constant(treated, has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = sm.NegativeBinomial(counts, design, offset=np.log(years)).fit(disp=0, maxiter=300)
            if not np.all(np.isfinite(fit.bse[:2])):
                raise ValueError("singular fit")
            low, high = np.exp(fit.conf_int()[1])
            return Estimate(float(np.exp(fit.params[1])), float(low), float(high), float(fit.pvalues[1]))
        except (ValueError, np.linalg.LinAlgError) as error:
            fit = sm.GLM(counts, design, family=sm.families.Poisson(), offset=np.log(years)).fit()
            low, high = np.exp(fit.conf_int()[1])
            return Estimate(float(np.exp(fit.params[1])), float(low), float(high), float(fit.pvalues[1]),
                            note=f"Poisson (negative binomial failed: {error})")


def cumulative_incidence_figure(path, table: TrialTable, names: list[str], title: str) -> None:
    """Kaplan-Meier cumulative incidence of confirmed worsening per arm, with numbers at risk."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from lifelines import KaplanMeierFitter

    fig, ax = plt.subplots(figsize=(6.4, 4.6), constrained_layout=True)
    ticks = np.arange(0.0, np.ceil(table.time.max()) + 1e-9, 0.5)
    at_risk = []
    for i, name in enumerate(names):
        chosen = table.arm == i
        fitter = KaplanMeierFitter(label=f"{name} ({int(table.event[chosen].sum())}/{int(chosen.sum())} events)")
        fitter.fit(table.time[chosen], table.event[chosen])
        fitter.plot_cumulative_density(ax=ax, ci_show=True)
        at_risk.append([int(np.sum(table.time[chosen] >= t)) for t in ticks])
    ax.set(xlabel="years since randomisation", ylabel="cumulative incidence of confirmed worsening",
           xlim=(0, ticks[-1]), ylim=(0, None))
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3)
    header = f"{'at risk, yr':>18}: " + " ".join(f"{t:>5.1f}" for t in ticks)
    rows = "\n".join(f"{name[:18]:>18}: " + " ".join(f"{n:>5d}" for n in counts)
                     for name, counts in zip(names, at_risk))
    ax.text(0.0, -0.16, header + "\n" + rows, transform=ax.transAxes, fontsize=7, family="monospace", va="top")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
