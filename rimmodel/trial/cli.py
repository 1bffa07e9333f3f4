"""``rimmodel trial CONFIG.toml``."""

from __future__ import annotations

from pathlib import Path


def register(commands) -> None:
    trial = commands.add_parser("trial", help="a virtual trial: a patient-level design ([design], docs/patients.md) "
                                   "or a lesion cohort under placebo and treatment arms ([trial])")
    trial.add_argument("config", type=Path, help="trial TOML (see experiments/trial_*.toml)")
    trial.add_argument("--out", type=Path, help="output directory (default: runs/<config name>)")
    trial.add_argument("--cache", type=Path,
                       help="lesion library shared between designs (default: OUT/lesion_library.h5)")
    trial.set_defaults(handler=_trial)


def _trial(args) -> int:
    from rimmodel.fem import MPI
    from rimmodel.trial.config import load_trial
    from rimmodel.trial.report import write_report
    from rimmodel.trial.runner import run_trial

    from rimmodel.patients.design import is_design_file

    if is_design_file(args.config):  # a patient-level design (docs/patients.md)
        from rimmodel.patients.cli import run_trial_design

        return run_trial_design(args.config, args.out, args.cache)
    trial = load_trial(args.config)  # validated before anything runs
    out = args.out or Path("runs") / args.config.stem
    outcomes = run_trial(trial, out, MPI.COMM_WORLD)
    if MPI.COMM_WORLD.rank == 0:
        print(f"rimmodel: trial report -> {write_report(out, trial, outcomes)}")
    return 0
