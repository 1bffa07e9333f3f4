"""A calibration's files: posterior draws (ArviZ InferenceData layout, netCDF), diagnostics,
figures, and the calibrated parameter set (posterior median TOML + a draws file)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from rimmodel.calibration.runner import Outcome
from rimmodel.calibration.scoring import Identification
from rimmodel.study.draws import read_draws  # noqa: F401  (the draws file format lives with its readers)

POSTERIOR_FILE, DIAGNOSTICS_FILE = "posterior.nc", "diagnostics.json"


def posterior_chains(outcome: Outcome) -> np.ndarray:
    """(chains, draws, d) in physical units: emcee walkers as chains; ABC: one chain of resampled draws."""
    from rimmodel.calibration.priors import to_physical

    if outcome.chains is not None:
        unit = outcome.chains.unit
        return to_physical(outcome.calibration.priors, unit.reshape(-1, unit.shape[-1])).reshape(unit.shape)
    return to_physical(outcome.calibration.priors, outcome.posterior_unit)[None]


def prior_draws(outcome: Outcome, count: int = 4000) -> np.ndarray:
    from rimmodel.calibration.priors import to_physical

    rng = np.random.default_rng(outcome.calibration.settings.seed + 7)
    return to_physical(outcome.calibration.priors, rng.uniform(size=(count, len(outcome.calibration.priors))))


def write_inference_data(path: Path, outcome: Outcome) -> Path:
    import arviz as az

    names = outcome.calibration.names
    chains = posterior_chains(outcome)
    groups = {"posterior": {n: chains[:, :, j] for j, n in enumerate(names)},
              "prior": {n: prior_draws(outcome)[None, :, j] for j, n in enumerate(names)},
              "observed_data": {o.id: np.array([o.value]) for o in outcome.calibration.outputs},
              "posterior_predictive": {k: v[None] for k, v in outcome.predictive.items()}}
    if outcome.chains is not None:
        groups["sample_stats"] = {"lp": outcome.chains.log_posterior}
    tree = az.from_dict(groups)
    tree.attrs.update(method=outcome.method, calibration=outcome.calibration.source,
                      model_runs=outcome.model_runs)
    tree.to_netcdf(path)
    return path


def write_diagnostics(path: Path, outcome: Outcome, checks, identified: list[Identification], reach: dict) -> Path:
    found = {"method": outcome.method, "model_runs": outcome.model_runs, "wall_s": outcome.wall_s,
             "samples": {b.name: {"run": int(b.completed.size), "completed": int(b.completed.sum()),
                                  "model_wall_s": float(np.nansum(b.wall_s))} for b in outcome.batches},
             "mcmc": outcome.diagnostics if outcome.chains is not None else None,
             "mcmc_convergence": outcome.chains.summary() if outcome.chains is not None else None,
             "acceptance": float(outcome.chains.acceptance.mean()) if outcome.chains is not None else None,
             "abc": outcome.diagnostics if outcome.abc_result is not None else None,
             "nroy_fraction_per_wave": outcome.nroy_fractions,
             "emulator_leave_one_out": {name: {"rmse": e.leave_one_out().rmse,
                                               "relative_rmse": e.leave_one_out().relative_rmse,
                                               "coverage_2sd": e.leave_one_out().coverage_2sd,
                                               "design_points": int(e.unit.shape[0])}
                                        for name, e in outcome.emulators.items()},
             "checks": {c.observation.id: {"role": c.observation.role, "observed": c.observation.value,
                                           "model_5_50_95": c.model, "measurement_90": c.measurement,
                                           "standardised": c.standardised, "consistent": c.consistent}
                        for c in checks},
             "identification": {i.name: {"prior_5_50_95": i.prior, "posterior_5_50_95": i.posterior,
                                         "contraction": i.contraction, "identified": i.identified}
                                for i in identified},
             "joint_reach": {"single": reach["single"], "all": reach["all"],
                             "pairs": {f"{a} & {b}": v for (a, b), v in reach["pairs"].items()}}}
    path.write_text(json.dumps(found, indent=2, default=float))
    return path


def write_calibrated(directory: Path, outcome: Outcome, identified: list[Identification]) -> tuple[Path, Path]:
    """``<name>.toml``: the posterior medians as a model config; ``<name>_draws.csv``: posterior draws."""
    import tomli_w

    directory.mkdir(parents=True, exist_ok=True)
    label = outcome.calibration.label
    config: dict = {}
    for item in identified:
        if item.name.startswith("cohort."):
            continue
        section, _, key = item.name.partition(".")
        if key:
            config.setdefault(section, {})[key] = float(item.posterior[1])
        else:  # an analytic model's parameter
            config[section] = float(item.posterior[1])
    header = [f"# Posterior medians from `rimmodel calibrate {outcome.calibration.path}` ({outcome.method}); "
              "see docs/calibration.md.",
              "# Parameters the data leave unidentified (posterior ~ prior): "
              + (", ".join(i.name for i in identified if not i.identified) or "none"),
              *(f"# {i.name}: posterior 90 % [{i.posterior[0]:.4g}, {i.posterior[2]:.4g}]" for i in identified), ""]
    toml_path = directory / f"{label}.toml"
    toml_path.write_text("\n".join(header) + tomli_w.dumps(config))
    draws_path = directory / f"{label}_draws.csv"
    flat = posterior_chains(outcome).reshape(-1, len(identified))
    rng = np.random.default_rng(outcome.calibration.settings.seed)
    chosen = flat[np.sort(rng.choice(flat.shape[0], min(1000, flat.shape[0]), replace=False))]
    with draws_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(outcome.calibration.names)
        writer.writerows([[repr(float(v)) for v in row] for row in chosen])
    return toml_path, draws_path
