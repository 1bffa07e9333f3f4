"""``rimmodel trial CONFIG.toml``."""

from __future__ import annotations

from pathlib import Path


def register(commands) -> None:
    trial = commands.add_parser("trial", help="a virtual trial: a patient-level design ([design], docs/patients.md) "
                                   "or a lesion cohort under placebo and treatment arms ([trial])")
    trial.add_argument("config", type=Path, help="trial TOML (see experiments/trial_*.toml)")
    trial.add_argument("--out", type=Path, help="output directory (default: runs/<config name>)")
    trial.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                       help="override a model config value for every lesion and arm (e.g. --set time.dt=0.05) "
                            "or a trial setting (--set trial.lesions=4); repeatable")
    trial.add_argument("--draws", type=Path, help="posterior draws (rimmodel calibrate's *_draws.csv): rerun the "
                       "trial under --draws-count of them, so effect sizes carry parametric uncertainty")
    trial.add_argument("--draws-count", type=int, default=8, help="posterior draws to run (default 8)")
    trial.add_argument("--cache", type=Path, help="lesion library shared between designs (default: OUT/lesion_library.h5)")
    trial.set_defaults(handler=_trial)


def _trial(args) -> int:
    from rimmodel.cli import stopping_cleanly

    return stopping_cleanly("trial", _trial_guarded, args)


def _trial_guarded(args) -> int:
    from rimmodel.fem import MPI
    from rimmodel.trial.config import load_trial
    from rimmodel.trial.report import write_report
    from rimmodel.trial.runner import run_trial

    from rimmodel.io.output_dir import check_output_directory
    from rimmodel.patients.design import is_design_file

    if is_design_file(args.config):  # a patient-level design (docs/patients.md)
        from rimmodel.config import ConfigError
        from rimmodel.patients.cli import run_trial_design

        if args.overrides or args.draws is not None:
            raise ConfigError(f"{args.config} is a patient-level trial design: --set and --draws apply to "
                              f"lesion-level trial files; edit the design (its [parameters] table) instead")

        return run_trial_design(args.config, args.out, args.cache)
    trial = load_trial(args.config, args.overrides)  # validated before anything runs
    out = check_output_directory(args.out or Path("runs") / args.config.stem)
    if args.draws is not None:
        from rimmodel.calibration.propagation import run_trial_over_draws

        summary = run_trial_over_draws(trial, args.draws, args.draws_count, out, MPI.COMM_WORLD)
        if MPI.COMM_WORLD.rank == 0:
            print(f"rimmodel: effect sizes over posterior draws -> {summary}")
        return 0
    outcomes = run_trial(trial, out, MPI.COMM_WORLD)
    if MPI.COMM_WORLD.rank == 0:
        print(f"rimmodel: trial report -> {write_report(out, trial, outcomes)}")
    return 0
