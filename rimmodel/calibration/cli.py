"""``rimmodel calibrate CALIBRATION.toml``."""

from __future__ import annotations

from pathlib import Path


def register(commands) -> None:
    calibrate = commands.add_parser("calibrate", help="fit parameters to observations with uncertainty "
                                    "(emulators + history matching + MCMC, or ABC-SMC); resumable")
    calibrate.add_argument("calibration", type=Path, help="calibration TOML (see experiments/calibration/)")
    calibrate.add_argument("--out", type=Path, help="run directory (default: runs/calibration/<file stem>); "
                           "rerun with the same --out to continue")
    calibrate.add_argument("--report", type=Path, help="Markdown report, its figures in figures/ beside it "
                           "(default: OUT/calibration.md; the project's own is docs/calibration.md)")
    calibrate.add_argument("--calibrated-dir", type=Path, help="where the posterior-median TOML and the draws "
                           "file go (default: OUT/calibrated; the project's own are in experiments/calibrated)")
    calibrate.add_argument("--quiet", action="store_true", help="no progress lines")
    calibrate.set_defaults(handler=_calibrate)


def _calibrate(args) -> int:
    from rimmodel.calibration.report import finish
    from rimmodel.calibration.runner import calibrate
    from rimmodel.calibration.spec import load_calibration
    from rimmodel.fem import MPI

    calibration = load_calibration(args.calibration)  # validated before anything runs
    out = args.out or Path("runs") / "calibration" / args.calibration.stem
    outcome = calibrate(calibration, out, MPI.COMM_WORLD, progress=not args.quiet)
    if MPI.COMM_WORLD.rank == 0:
        # by default everything stays in the run directory: a colleague's calibration file never overwrites docs
        written = finish(outcome, out, args.report or out / "calibration.md", args.calibrated_dir or out / "calibrated")
        for item in written.identified:
            print(f"{item.name:<40} median {item.posterior[1]:.4g}  90 % [{item.posterior[0]:.4g}, "
                  f"{item.posterior[2]:.4g}]  {'identified' if item.identified else 'not identified'}")
        if outcome.chains is not None and not outcome.chains.converged:
            print("rimmodel: MCMC NOT CONVERGED: " + "; ".join(outcome.chains.failures))
        print(f"rimmodel: calibration -> {written.report}, {written.posterior}, {written.calibrated}")
    return 0
