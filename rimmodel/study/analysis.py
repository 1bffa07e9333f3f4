"""Sensitivity indices from a study's results with SALib, and their plots.

saltelli -> Sobol' first-order and total indices (bootstrap confidence intervals);
morris -> mu*, sigma (elementary effects, in output units per unit quantile);
latin / grid -> Borgonovo's delta and first-order S1 (SALib's delta method).
Indices are computed on the unit-space design: each parameter's column is a
monotone map of its unit column, so Sobol' and delta indices are those of the
physical parameters.

Samples without a value (failed, or pending in an unfinished study) follow one policy
(docs/studies.md): Sobol' and Morris estimators need every point of their structured design,
so they are refused with every such sample named; delta works on any sample set, so it runs
on the samples with a value and the excluded ones are reported with the indices. Failures
cluster in parameter space, so such delta indices describe the region where the model ran.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rimmodel.study.results import StudyResults, read_results
from rimmodel.study.sampling import unit_problem

STATISTICS = {
    "final": "value at the last output time",
    "change": "last minus first value",
    "rate": "(last - first) / duration, per year",
    "max": "largest value over the run",
}


def quantity_of_interest(results: StudyResults, observable: str, statistic: str) -> np.ndarray:
    if observable not in results.observables:
        raise ValueError(f"--observable {observable!r}: the study kept {', '.join(results.observables)}")
    if statistic not in STATISTICS:
        raise ValueError(f"--statistic {statistic!r}: one of {', '.join(STATISTICS)}")
    series, time = results.observables[observable], results.time
    if series.shape[1] == 0:  # no sample has an output
        return np.full(series.shape[0], np.nan)
    last = np.array([_last(row) for row in series])
    first = series[:, 0]
    if statistic == "final":
        return last
    if statistic == "change":
        return last - first
    if statistic == "max":
        return np.nanmax(np.where(np.isnan(series), -np.inf, series), axis=1)
    duration = np.array([_last(row) for row in time]) - time[:, 0]
    return (last - first) / duration


def sensitivity(results: StudyResults, y: np.ndarray, seed: int = 0) -> dict[str, dict[str, list[float]]]:
    """Indices per parameter: {index name: [value per parameter]} (``*_conf``: 95% half-widths)."""
    settings = results.settings
    problem = unit_problem(results.names)
    sampler = settings["sampler"]
    if sampler in ("saltelli", "morris"):
        _require_all(results, y)
    elif not np.isfinite(y).any():
        raise ValueError(f"no sample has a value to analyse: {_describe_missing(results, y)}")
    if np.nanstd(y) == 0.0:
        raise ValueError(f"the quantity is the same in every sample ({np.nanmean(y):.6g}): no sensitivity to "
                         f"apportion (a longer run, a finer mesh or another observable may resolve it)")
    if sampler == "saltelli":
        from SALib.analyze import sobol

        found = sobol.analyze(problem, y, calc_second_order=bool(settings["second_order"]), seed=seed)
        keys = ("S1", "S1_conf", "ST", "ST_conf")
        return {k: list(map(float, found[k])) for k in keys}
    if sampler == "morris":
        from SALib.analyze import morris

        found = morris.analyze(problem, results.unit_design, y, num_levels=int(settings["morris_levels"]),
                               seed=seed)
        return {k: list(map(float, found[k])) for k in ("mu_star", "mu_star_conf", "sigma")}
    from SALib.analyze import delta

    kept = np.isfinite(y)
    if kept.sum() < 10 * len(results.names):
        raise ValueError(f"delta indices need at least 10 completed samples per parameter "
                         f"({10 * len(results.names)}); this study has {int(kept.sum())}")
    found = delta.analyze(problem, results.unit_design[kept], y[kept], seed=seed)
    key = "delta_raw" if "delta_raw" in found else "delta"  # SALib >= 1.5.1 offers several estimators
    return {"delta": list(map(float, found[key])), "delta_conf": list(map(float, found[f"{key}_conf"])),
            "S1": list(map(float, found["S1"])), "S1_conf": list(map(float, found["S1_conf"]))}


def _require_all(results: StudyResults, y: np.ndarray) -> None:
    if np.isfinite(y).all():
        return
    method = "Sobol'" if results.settings["sampler"] == "saltelli" else "Morris"
    raise ValueError(f"{method} indices need every sample of the {results.settings['sampler']} design: "
                     f"{_describe_missing(results, y)}. Remove the cause (docs/studies.md, Failed samples) "
                     f"and run the study again in a new directory, or use a latin design, whose delta indices "
                     f"exclude failed samples")


def missing_samples(results: StudyResults, y: np.ndarray) -> dict[str, list[int]]:
    """Samples without a value, by why: failed, pending (study unfinished), or no value (completed,
    but the statistic is undefined, e.g. a rate over a single output)."""
    missing = ~np.isfinite(y)
    groups = {"failed": missing & (results.status == "failed"), "pending": missing & (results.status == "pending")}
    groups["no value"] = missing & ~groups["failed"] & ~groups["pending"]
    return {why: [int(i) for i in np.flatnonzero(mask)] for why, mask in groups.items() if mask.any()}


def _describe_missing(results: StudyResults, y: np.ndarray) -> str:
    parts = []
    for why, indices in missing_samples(results, y).items():
        shown = ", ".join(map(str, indices[:20])) + (f" and {len(indices) - 20} more" if len(indices) > 20 else "")
        part = f"{len(indices)} {why} (samples {shown})"
        if why == "failed":
            reason = " ".join(str(results.reason[indices[0]]).split())[:160]
            part += f"; sample {indices[0]}: {reason}"
        elif why == "pending":
            part += "; the study has not finished: rerun `rimmodel study` on it"
        parts.append(part)
    return "; ".join(parts)


def write_table(path: Path, names: list[str], indices: dict[str, list[float]]) -> Path:
    header = ["parameter", *indices]
    rows = [[name, *(f"{indices[k][j]:.6g}" for k in indices)] for j, name in enumerate(names)]
    path.write_text("\n".join(",".join(row) for row in [header, *rows]) + "\n")
    return path


def plot_indices(path: Path, names: list[str], indices: dict[str, list[float]], title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    main = [k for k in indices if not k.endswith("_conf") and k != "sigma"]
    fig, ax = plt.subplots(figsize=(1.5 + 1.2 * len(names), 3.5))
    width = 0.8 / len(main)
    for k, key in enumerate(main):
        errors = indices.get(f"{key}_conf")
        ax.bar(np.arange(len(names)) + k * width, indices[key], width, yerr=errors, capsize=3, label=key)
    ax.set_xticks(np.arange(len(names)) + width * (len(main) - 1) / 2, names, rotation=20, ha="right")
    ax.set_title(title, fontsize=9)
    ax.axhline(0.0, color="0.5", lw=0.5)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def analyze(study_dir: str | Path, observable: str | None = None, statistic: str = "final",
            seed: int = 0) -> dict:
    results = read_results(study_dir)
    observable = observable or next(iter(results.observables))
    y = quantity_of_interest(results, observable, statistic)
    indices = sensitivity(results, y, seed)
    excluded = missing_samples(results, y)
    stem = Path(study_dir) / f"sensitivity_{observable}_{statistic}"
    title = f"{results.settings['sampler']}: {observable} ({STATISTICS[statistic]})"
    if excluded:
        title += f"\n{int(np.isfinite(y).sum())} of {y.size} samples; excluded: " + \
            ", ".join(f"{len(indices_)} {why}" for why, indices_ in excluded.items())
    return {"observable": observable, "statistic": statistic, "indices": indices, "names": results.names,
            "failed": int((results.status == "failed").sum()), "analysed": int(np.isfinite(y).sum()),
            "samples": int(y.size), "excluded": excluded,
            "table": write_table(stem.with_suffix(".csv"), results.names, indices),
            "figure": plot_indices(stem.with_suffix(".png"), results.names, indices, title)}


def _last(row: np.ndarray) -> float:
    finite = row[np.isfinite(row)]
    return float(finite[-1]) if finite.size else np.nan
