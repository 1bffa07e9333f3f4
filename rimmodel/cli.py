"""Command line: ``rimmodel run | demo | trial | study | analyze | mri | mesh | config | equations |
parameters | verify | validate``, and (from rimviz) ``render | compare | report``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from rimmodel.config import ConfigError

    try:
        return args.handler(args)
    except ConfigError as error:
        print(f"rimmodel: configuration error: {error}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as error:  # e.g. not a run directory, unknown layer
        print(f"rimmodel: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rimmodel", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run one configuration, or continue a stopped run (--resume)")
    run.add_argument("config", type=Path, nargs="?", help="TOML config (see experiments/)")
    run.add_argument("--out", type=Path, help="run directory (default: runs/<config name>)")
    run.add_argument("--resume", type=Path, metavar="RUN_DIR",
                     help="continue RUN_DIR from its last checkpoint with its own config.toml")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                     help="override a config value, e.g. --set btk.cns_occupancy=0.8 (repeatable)")
    run.add_argument("--overwrite", action="store_true", help="replace an earlier run in --out")
    run.set_defaults(handler=_run)

    demo = commands.add_parser("demo", help="untreated vs BTK inhibition over 10 years, with figures; "
                               "or a teaching demo by NAME (--list)")
    demo.add_argument("name", nargs="?", help="a teaching demo (experiments/teaching/), e.g. 1 or chronic_active_rim")
    demo.add_argument("--list", action="store_true", help="list the teaching demos")
    demo.add_argument("--out", type=Path, help="output directory (default runs/demo or runs/teaching/NAME)")
    demo.add_argument("--years", type=float, help="reference demo only: simulated years (default 10)")
    demo.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                      help="reference demo only: override a config value (repeatable)")
    demo.set_defaults(handler=_demo)

    show = commands.add_parser("config", help="print the resolved, validated config as TOML")
    show.add_argument("config", type=Path, nargs="?")
    show.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE")
    show.set_defaults(handler=_show_config)

    equations = commands.add_parser("equations", help="print the model equations")
    equations.set_defaults(handler=_equations)

    verify = commands.add_parser("verify", help="run the verification cases, write a Markdown report")
    verify.add_argument("--out", type=Path, default=Path("docs/verification.md"),
                        help="report path; figures go to figures/ beside it")
    verify.add_argument("--quick", action="store_true", help="coarser refinement ladders (what CI runs)")
    verify.set_defaults(handler=_verify)

    validate = commands.add_parser("validate", help="run the validation cases, write a report with figures")
    validate.add_argument("--out", type=Path, default=Path("docs/validation.md"))
    validate.set_defaults(handler=_validate)

    table = commands.add_parser("parameters", help="print the parameter table (Markdown)")
    table.add_argument("--update", type=Path, metavar="DOC", help="rewrite the table inside DOC in place")
    table.set_defaults(handler=_parameters)

    from rimmodel.geometry.mesh_cli import register as register_mesh
    from rimmodel.mri.cli import register as register_mri  # numpy/scipy/nibabel only: no FEM stack
    from rimmodel.study.cli import register as register_study
    from rimmodel.trial.cli import register as register_trial
    from rimviz.cli import register as register_visualisation  # argparse only; needs no FEM stack

    register_trial(commands)
    register_study(commands)
    register_mri(commands)
    register_mesh(commands)
    register_visualisation(commands)
    return parser


def _run(args) -> int:
    from rimmodel.config import ConfigError, load_config

    if args.resume is not None:
        if args.config is not None or args.overrides or args.out is not None:
            raise ConfigError("--resume RUN_DIR continues that run with its own config.toml: "
                              "give no CONFIG, --set or --out")
        config, out = load_config(args.resume / "config.toml"), args.resume
    elif args.config is None:
        raise ConfigError("rimmodel run: give a CONFIG file, or --resume RUN_DIR")
    else:
        config = load_config(args.config, args.overrides)  # validated before anything is written
        out = args.out or Path("runs") / args.config.stem
    from rimmodel.simulation import Simulation
    from rimmodel.solver.time_loop import SolverFailure

    simulation = Simulation(config)
    try:
        simulation.run(out, overwrite=args.overwrite, resume=args.resume is not None)
    except SolverFailure as failure:
        print(f"rimmodel: run failed: {failure}; outputs up to then are in {out}", file=sys.stderr)
        return 1
    if simulation.comm.rank == 0:
        print(f"rimmodel: run completed -> {out}")
    return 0


def _demo(args) -> int:
    if args.list or args.name:
        from rimmodel.config import ConfigError
        from rimmodel.teaching import list_demos, run_teaching_demo

        if args.list:
            for stem, title in list_demos().items():
                print(f"{stem:<40} {title}")
            return 0
        if args.years is not None or args.overrides:
            raise ConfigError(f"demo {args.name}: --years and --set apply to the reference demo only; a teaching "
                              "demo runs the scenarios whose claims it checks (drop them, or use rimmodel run)")
        run_teaching_demo(args.name, args.out)
        return 0
    from rimmodel.demo import run_demo

    run_demo(args.out or Path("runs/demo"), 10.0 if args.years is None else args.years, tuple(args.overrides))
    return 0


def _equations(args) -> int:
    from rimmodel.physics.equations import EQUATIONS

    print(EQUATIONS)
    return 0


def _verify(args) -> int:
    from rimmodel.verification.report import FULL, QUICK, write_report

    write_report(args.out, suite=QUICK if args.quick else FULL)
    print(f"rimmodel: verification report -> {args.out}")
    return 0


def _validate(args) -> int:
    from rimmodel.validation.report import write_report

    write_report(args.out)
    print(f"rimmodel: validation report -> {args.out}")
    return 0


def _parameters(args) -> int:
    from rimmodel.config.table import parameter_table, with_table

    if args.update:
        args.update.write_text(with_table(args.update.read_text()))
    else:
        print(parameter_table())
    return 0


def _show_config(args) -> int:
    from rimmodel.config import config_to_toml, load_config

    print(config_to_toml(load_config(args.config, args.overrides)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
