"""Calibration benchmark: recover 6 parameters of the lesion cohort from 6 model-generated observations.

The truth is a parameter set inside the priors whose rims burn out within the follow-up (so no
observable is censored at the horizon); its cohort is run once (a one-sample batch through
the study machinery), each of 6 observation operators is read off, and the values become a synthetic
observation set with a 10 % error (sd 0.1 on the log scale). ``rimmodel calibrate``'s emulator path
then runs from scratch: history-matching waves of model runs (MPI groups, journals), GP emulators,
emcee. Printed and written to benchmarks/results/calibration.json: model runs, wall time (whole and
model-only), emulator leave-one-out errors, and whether each true value lies inside its posterior 90 %
interval.

    mpirun -n 2 python benchmarks/calibration.py            # 6 x 6 on batched radial cohorts, 3 waves of 120
    mpirun -n 2 python benchmarks/calibration.py --quick    # 6 x 6, 2 waves of 20, 8-year cohorts
    mpirun -n 2 python benchmarks/calibration.py --model rimmodel   # on 2D sections: 2 waves of 60, ~2 h of runs

With ``--model radial`` (default) every parameter set is a cohort of isolated spherical lesions,
advanced 16 parameter sets at a time as one radial batch; with ``--model rimmodel`` a cohort of
2D sections (the default geometry), one lesion at a time.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

TRUTH = {"microglia.activation_rate": 2.3, "microglia.deactivation_rate": 0.8, "microglia.resting_pool": 0.005,
         "myelin.microglial_damage_rate": 1.5, "iron.clearance_rate": 0.5, "cohort.heterogeneity": 0.15}
PRIORS = {"microglia.activation_rate": ("uniform", 1.5, 2.8), "microglia.deactivation_rate": ("loguniform", 0.3, 0.9),
          "microglia.resting_pool": ("loguniform", 0.003, 0.008),
          "myelin.microglial_damage_rate": ("loguniform", 0.8, 3.0), "iron.clearance_rate": ("loguniform", 0.25, 1.0),
          "cohort.heterogeneity": ("uniform", 0.05, 0.3)}
OBSERVABLES = {  # id: (operator, arguments)
    "rim_lifetime": ("cohort_median_rim_lifetime", {"rim": "iron"}),
    "edge_advance": ("median_lesion_edge_advance", {"start": 1.0, "end": 4.0}),
    "iron_peak_time": ("median_lesion_iron_peak_time", {}),
    "rim_thickness_2yr": ("median_lesion_value", {"observable": "rim_thickness", "at": 2.0}),
    "iron_total_3yr": ("median_lesion_value", {"observable": "iron_total", "at": 3.0}),
    "axon_loss_6yr": ("median_lesion_value", {"observable": "axon_loss", "at": 6.0}),
}
RELATIVE_ERROR = 0.1


MODELS = {  # calibration.model -> cohort lesions and the model settings of each lesion run
    "radial": (5, ["batch = 16"], ["[model.geometry]", "outer_radius = 8.0", "mesh_size = 0.125", "[model.time]",
                                  "dt = 0.25", "output_interval = 0.25"]),
    "rimmodel": (3, [], ["[model.geometry]", "mesh_size = 0.3", "[model.time]", "dt = 0.2", "output_interval = 0.25"]),
}


def calibration_text(observations: Path, model: str, points: int, waves: int, years: float) -> str:
    # [mcmc] steps is a cap: emcee runs until converged (rimmodel/calibration/mcmc.py)
    lesions, settings, model_tables = MODELS[model]
    lines = ["[calibration]", f'model = "{model}"', *settings, f'observations = "{observations.name}"', "seed = 7",
             "discrepancy = 0.0", 'name = "benchmark"', "[design]", f"points = {points}", f"waves = {waves}",
             "candidates = 16384", "[mcmc]", "walkers = 32", "steps = 100000", "[cohort]", f"lesions = {lesions}",
             f"years = {years}", *model_tables]
    for name, (kind, low, high) in PRIORS.items():
        lines += [f'[parameters."{name}"]', f'prior = "{kind}"', f"low = {low}", f"high = {high}"]
    return "\n".join(lines) + "\n"


def observation_text(values: dict[str, float]) -> str:
    blocks = []
    for name, value in values.items():
        operator, arguments = OBSERVABLES[name]
        args = ", ".join(f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {v}" for k, v in arguments.items())
        low, high = float(value * np.exp(-1.6448536 * RELATIVE_ERROR)), float(value * np.exp(1.6448536 * RELATIVE_ERROR))
        blocks.append("\n".join(["[[observation]]", f'id = "{name}"', f'quantity = "{name} at the true parameters"',
                                 f"value = {value!r}", f"interval = [{low!r}, {high!r}]",
                                 f'interval_kind = "synthetic: {RELATIVE_ERROR:g} sd on the log scale"', 'units = "-"',
                                 'population = "model-generated"', 'citation = "benchmarks/calibration.py"',
                                 'location = "truth run"', 'status = "D"', 'role = "calibration"', 'scale = "log"',
                                 f'operator = "{operator}"', f"arguments = {{{args}}}"]))
    return "\n\n".join(blocks) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 waves of 20 parameter sets, 8-year cohorts")
    parser.add_argument("--waves", type=int, help="history-matching waves (default 3 radial, 2 rimmodel)")
    parser.add_argument("--model", choices=tuple(MODELS), default="radial", help="what a parameter set runs")
    parser.add_argument("--out", type=Path, default=Path("runs/benchmark_calibration"))
    args = parser.parse_args()
    from rimmodel.calibration.report import finish
    from rimmodel.calibration.runner import calibrate, run_batch
    from rimmodel.calibration.spec import load_calibration
    from rimmodel.fem import MPI

    comm = MPI.COMM_WORLD
    default_waves = 3 if args.model == "radial" else 2
    points, waves, years = (20, 2, 8.0) if args.quick else (120 if args.model == "radial" else 60, default_waves, 10.0)
    waves = args.waves or waves
    mode = ("quick" if args.quick else "full") + ("" if waves == default_waves or args.quick else f"-{waves}-wave")
    mode = f"{args.model}-{mode}"
    out = args.out / mode
    started = time.perf_counter()
    if comm.rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        placeholder = {name: 1.0 for name in OBSERVABLES}  # the truth run needs a loadable file first
        (out / "observations.toml").write_text(observation_text(placeholder))
        (out / "calibration.toml").write_text(calibration_text(out / "observations.toml", args.model, points, waves,
                                                               years))
    comm.Barrier()
    calibration = load_calibration(out / "calibration.toml")
    truth_unit = np.array([[p.to_unit(TRUTH[p.name]) for p in calibration.priors]])
    truth = run_batch(calibration, truth_unit, out / "truth", comm, progress=False)
    values = {name: float(truth.values[name][0]) for name in OBSERVABLES}
    if comm.rank == 0:
        (out / "observations.toml").write_text(observation_text(values))
    comm.Barrier()
    calibration = load_calibration(out / "calibration.toml")
    outcome = calibrate(calibration, out / "run", comm, progress=False)
    if comm.rank != 0:
        return
    written = finish(outcome, out / "run", out / "report" / "calibration.md", out / "calibrated")
    wall = time.perf_counter() - started
    inside = {i.name: bool(i.posterior[0] <= TRUTH[i.name] <= i.posterior[2]) for i in written.identified}
    result = {"mode": mode, "model": args.model, "lesions": calibration.cohort.lesions,
              "parameters": len(calibration.priors), "waves": waves,
              "observations": len(calibration.calibrate), "ranks": comm.size,
              "parameter_sets": int(sum(b.completed.size for b in outcome.batches)),
              "model_runs": outcome.model_runs + calibration.cohort.lesions,
              "wall_s": wall, "model_wall_s": float(sum(np.nansum(b.wall_s) for b in outcome.batches)),
              "truth": TRUTH, "observed": values,
              "emulator_loo_relative_rmse": {k: e.leave_one_out().relative_rmse for k, e in outcome.emulators.items()},
              "truth_inside_90": inside,
              "posterior_90": {i.name: [i.posterior[0], i.posterior[2]] for i in written.identified},
              "contraction": {i.name: i.contraction for i in written.identified},
              "nroy_fraction_per_wave": outcome.nroy_fractions,
              "r_hat_max": max(d["r_hat"] for d in outcome.diagnostics.values()),
              "mcmc_converged": outcome.chains.converged, "mcmc_failures": outcome.chains.failures}
    Path("benchmarks/results").mkdir(parents=True, exist_ok=True)
    Path(f"benchmarks/results/calibration_{result['mode']}.json").write_text(json.dumps(result, indent=2))
    print(f"{result['parameters']} parameters x {result['observations']} observations on {comm.size} ranks "
          f"({result['mode']}): {result['model_runs']} lesion runs ({result['parameter_sets']} parameter sets), "
          f"wall {wall / 60:.1f} min (model runs {result['model_wall_s'] / 60:.2f} min summed over groups); MCMC "
          + ("converged" if result["mcmc_converged"] else "NOT converged: " + "; ".join(result["mcmc_failures"])))
    for name, error in result["emulator_loo_relative_rmse"].items():
        print(f"  emulator {name:<20} LOO RMSE / spread {error:.3f}")
    for name, ok in inside.items():
        low, high = result["posterior_90"][name]
        print(f"  {name:<36} truth {TRUTH[name]:<7g} 90 % [{low:.4g}, {high:.4g}] {'inside' if ok else 'OUTSIDE'} "
              f"(sd ratio {result['contraction'][name]:.2f})")
    update_docs(Path("docs/calibration.md"), result)


def command(result: dict) -> str:
    quick = "quick" in result["mode"]
    flags = (" --model rimmodel" if result["model"] == "rimmodel" else "") + (" --quick" if quick else "") + \
        ("" if quick or result["mode"].endswith("full") else f" --waves {result['waves']}")
    return f"mpirun -n {result['ranks']} python benchmarks/calibration.py{flags}"


def update_docs(path: Path, result: dict) -> None:
    """Replace the benchmark block of docs/calibration.md (kept when the report is regenerated)."""
    from rimmodel.calibration.report import BENCHMARK_BEGIN, BENCHMARK_END

    if not path.exists() or BENCHMARK_BEGIN not in path.read_text():
        return
    import datetime

    lines = [BENCHMARK_BEGIN, "## Benchmark", "",
             f"`{command(result)}`"
             f" on {datetime.date.today().isoformat()} ({result['mode']} mode; this shared 2-core machine was running "
             "other jobs): recover 6 parameters of the lesion cohort from 6 model-generated observations (10 % error).",
             "", f"- {result['model_runs']} lesion runs ({result['parameter_sets']} parameter sets x {result['lesions']} lesions + the "
             f"truth), wall {result['wall_s'] / 60:.1f} min end to end on {result['ranks']} ranks "
             f"(model time summed over groups {result['model_wall_s'] / 60:.2f} min); max R-hat "
             f"{result['r_hat_max']:.3f}, MCMC " + ("converged" if result["mcmc_converged"] else
                                                    "**not converged**: " + "; ".join(result["mcmc_failures"]))
             + "; not-ruled-out share after each wave "
             + ", ".join(f"{100 * f:.1f} %" for f in result["nroy_fraction_per_wave"]) + ".",
             "- Emulator leave-one-out RMSE / spread: " + ", ".join(
                 f"{k} {v:.2f}" for k, v in result["emulator_loo_relative_rmse"].items()) + ".", "",
             "| parameter | truth | posterior 90 % | inside | sd ratio |", "|---|---|---|---|---|"]
    for name, ok in result["truth_inside_90"].items():
        low, high = result["posterior_90"][name]
        lines.append(f"| `{name}` | {result['truth'][name]:g} | {low:.4g}–{high:.4g} | {'yes' if ok else '**no**'} | "
                     f"{result['contraction'][name]:.2f} |")
    lines.append(BENCHMARK_END)
    text = path.read_text()
    start, end = text.index(BENCHMARK_BEGIN), text.index(BENCHMARK_END) + len(BENCHMARK_END)
    path.write_text(text[:start] + "\n".join(lines) + text[end:])


if __name__ == "__main__":
    main()
