"""The ``rimmodel`` command line (``rimmodel --help``); rimviz adds render, compare and report."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import rimmodel

log = logging.getLogger("rimmodel")

DESCRIPTION = """\
rimmodel: a reaction-diffusion finite-element model of smouldering multiple sclerosis
(microglial rims, meningeal follicles, BTK inhibition).

  run a model        run, demo, trial, study, mri, mesh
  look at results    render, compare, report, export, analyze
  configuration      config, schema, parameters, equations
  check the model    verify, validate
  shell              completion

`rimmodel COMMAND --help` describes each command."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from rimmodel.logs import configure_logging

    configure_logging(args.verbosity - args.quietness)
    from rimmodel.config import ConfigError

    try:
        return args.handler(args)
    except ConfigError as error:
        print(f"rimmodel: configuration error: {error}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:
        from rimmodel.extras import missing_extra_message

        message = missing_extra_message(error, args.command)
        if message is None:
            raise
        print(f"rimmodel: {message}", file=sys.stderr)
        return 3
    except (FileNotFoundError, ValueError) as error:  # e.g. not a run directory, unknown layer
        print(f"rimmodel: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `rimmodel config | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rimmodel", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"rimmodel {rimmodel.__version__}")
    parser.add_argument("-v", "--verbose", dest="verbosity", action="count", default=0,
                        help="more messages (-v: every time step of a run)")
    parser.add_argument("-q", "--quiet", dest="quietness", action="count", default=0,
                        help="warnings and errors only: no progress lines or summaries")
    commands = parser.add_subparsers(required=True, metavar="COMMAND", dest="command")

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

    show = commands.add_parser("config", help="print the resolved, validated config as TOML, each key "
                               "commented with its unit, allowed range and meaning")
    show.add_argument("config", type=Path, nargs="?")
    show.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE")
    show.set_defaults(handler=_show_config)

    equations = commands.add_parser("equations", help="print the model equations and a legend of their symbols")
    equations.add_argument("config", type=Path, nargs="?", help="take parameter values from this config")
    equations.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE")
    equations.set_defaults(handler=_equations)

    verify = commands.add_parser("verify", help="run the verification cases, write a Markdown report")
    verify.add_argument("--out", type=Path, default=Path("runs/verification/verification.md"),
                        help="report path; figures go to figures/ beside it (default: %(default)s; "
                             "the tracked report is regenerated with --out docs/verification.md)")
    verify.add_argument("--quick", action="store_true", help="coarser refinement ladders (what CI runs)")
    verify.set_defaults(handler=_verify)

    validate = commands.add_parser("validate", help="run the validation cases, write a report with figures")
    validate.add_argument("--out", type=Path, default=Path("runs/validation/validation.md"),
                          help="report path; figures go to figures/ beside it (default: %(default)s; "
                               "the tracked report is regenerated with --out docs/validation.md)")
    validate.set_defaults(handler=_validate)

    export = commands.add_parser(
        "export", help="write a run's fields as VTKHDF or VTU/PVD for ParaView, pyvista, meshio (no FEM stack)")
    export.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    export.add_argument("--format", dest="fmt", choices=("vtkhdf", "vtu", "xdmf"), default="vtkhdf",
                        help="vtkhdf: one fields.vtkhdf (default); vtu: fields.pvd + fields_vtu/*.vtu; "
                             "xdmf: fix fields.xdmf in place for VTK readers and add units/times to fields.h5 "
                             "(runs written before rimmodel did this itself)")
    export.add_argument("--out", type=Path, help="directory to write into (default: RUN_DIR)")
    export.set_defaults(handler=_export)

    schema = commands.add_parser("schema", help="print a JSON Schema of the config (units, ranges, choices) "
                                 "for editors: rimmodel schema > rimmodel-config.schema.json")
    schema.set_defaults(handler=_schema)

    completion = commands.add_parser("completion", help="print a shell completion script: "
                                     "eval \"$(rimmodel completion bash)\"")
    completion.add_argument("shell", choices=("bash",), help="bash (zsh: after bashcompinit)")
    completion.set_defaults(handler=_completion)

    table = commands.add_parser("parameters", help="print the parameter table (Markdown)")
    table.add_argument("--update", type=Path, metavar="DOC", help="rewrite the table inside DOC in place")
    table.set_defaults(handler=_parameters)

    from rimmodel.calibration.cli import register as register_calibration
    from rimmodel.geometry.mesh_cli import register as register_mesh
    from rimmodel.library.cli import register as register_library
    from rimmodel.mri.cli import register as register_mri  # numpy/scipy/nibabel only: no FEM stack
    from rimmodel.study.cli import register as register_study
    from rimmodel.trial.cli import register as register_trial
    from rimviz.cli import register as register_visualisation  # argparse only; needs no FEM stack

    register_trial(commands)
    register_calibration(commands)
    register_study(commands)
    register_mri(commands)
    register_mesh(commands)
    register_library(commands)
    register_visualisation(commands)
    return parser


def stopping_cleanly(command: str, body, args) -> int:
    """``body(args)`` with SIGINT / SIGTERM deferred to the end of the current time step; a stop is
    one line on stderr ("rimmodel: COMMAND stopped by ...") and the shell's 128 + signal exit code.
    What was written before is kept. For every command that runs the model."""
    from rimmodel.fem import MPI  # PETSc installs its signal handlers on import: the guard replaces them
    from rimmodel.interrupts import Interrupted, deferred_signals

    try:
        with deferred_signals():  # a signal while the model is built stops the run before it writes
            return body(args)
    except Interrupted as stop:
        if MPI.COMM_WORLD.rank == 0:
            print(f"rimmodel: {command} {stop}", file=sys.stderr)
        return stop.exit_code


def _run(args) -> int:
    return stopping_cleanly("run", _run_guarded, args)


def _run_guarded(args) -> int:
    from rimmodel.config import ConfigError, load_config

    if args.resume is not None:
        if args.config is not None or args.overrides or args.out is not None:
            raise ConfigError("--resume RUN_DIR continues that run with its own config.toml: "
                              "give no CONFIG, --set or --out")
        config, out = load_config(args.resume / "config.toml"), args.resume
        if config.solver.unsafe_petsc_options:  # a run directory may come from anyone
            raise ConfigError(f"{out / 'config.toml'}: --resume does not pass unchecked PETSc options "
                              f"(solver.unsafe_petsc_options = true): rerun from your own config instead")
    elif args.config is None:
        raise ConfigError("rimmodel run: give a CONFIG file, or --resume RUN_DIR")
    else:
        config = load_config(args.config, args.overrides)  # validated before anything is written
        out = args.out or Path("runs") / args.config.stem
        from rimmodel.io.output_dir import check_output_directory

        check_output_directory(out)
    from rimmodel.io.run_output import OutputFailure
    from rimmodel.simulation import Simulation
    from rimmodel.solver.time_loop import SolverFailure

    simulation = Simulation(config)
    try:
        record = simulation.run(out, overwrite=args.overwrite, resume=args.resume is not None)
    except (SolverFailure, OutputFailure) as failure:
        print(f"rimmodel: run failed: {failure}; outputs up to then are in {out}", file=sys.stderr)
        return 1
    if simulation.comm.rank == 0:
        log.info(run_summary(record, out))
    return 0


def run_summary(record, out: Path) -> str:
    """The end-of-run line a Slurm log ends with: simulated time, lesion growth, wall time, where."""
    import numpy as np

    from rimmodel.io.results import expansion_rate
    from rimmodel.progress import clock_text

    time, wall = np.asarray(record.time), record.provenance.get("wall_time_s", float("nan"))
    text = f"rimmodel: run completed: {time[-1]:g} yr simulated in {clock_text(wall)} wall ({wall:.1f} s)"
    radius = np.asarray(record.series.get("lesion_equivalent_radius", []))
    if radius.size >= 2:
        mean_rate = (radius[-1] - radius[0]) / (time[-1] - time[0])
        text += (f"; lesion radius {radius[0]:.2f} -> {radius[-1]:.2f} mm, expansion rate {mean_rate:.3f} mm/yr "
                 f"(mean), {expansion_rate(time, radius)[-1]:.3f} mm/yr at the end")
    return f"{text}; results in {out}"


def _demo(args) -> int:
    if args.list:  # runs nothing: no need to load the FEM stack for the guard
        return _demo_guarded(args)
    return stopping_cleanly("demo", _demo_guarded, args)


def _demo_guarded(args) -> int:
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
    from rimmodel.io.output_dir import check_output_directory

    run_demo(check_output_directory(args.out or Path("runs/demo")), 10.0 if args.years is None else args.years,
             tuple(args.overrides))
    return 0


def _equations(args) -> int:
    from rimmodel.config import load_config
    from rimmodel.physics.equations import FIELDS, describe

    print(describe(FIELDS, load_config(args.config, args.overrides)))
    return 0


def _verify(args) -> int:
    from rimmodel.fem import MPI
    from rimmodel.verification.report import FULL, QUICK, write_report

    write_report(args.out, suite=QUICK if args.quick else FULL)
    if MPI.COMM_WORLD.rank == 0:
        log.info(f"rimmodel: verification report -> {args.out}")
    return 0


def _validate(args) -> int:
    from rimmodel.fem import MPI
    from rimmodel.validation.report import write_report

    write_report(args.out)
    if MPI.COMM_WORLD.rank == 0:
        log.info(f"rimmodel: validation report -> {args.out}")
    return 0


def _export(args) -> int:
    if args.fmt == "xdmf":
        from rimmodel.io.field_annotation import annotate_field_file
        from rimmodel.io.field_series import FIELDS_XDMF

        if args.out is not None:
            raise ValueError("--format xdmf updates RUN_DIR in place: give no --out")
        xdmf = args.run_dir / FIELDS_XDMF
        if not xdmf.is_file():
            raise FileNotFoundError(f"{args.run_dir} has no {FIELDS_XDMF}")
        annotate_field_file(xdmf)
        print(f"rimmodel: {xdmf} readable by VTK's XDMF readers; units and times in {xdmf.with_suffix('.h5')}")
        return 0
    from rimmodel.io.field_export import export_fields

    print(f"rimmodel: fields -> {export_fields(args.run_dir, args.fmt, args.out)}")
    return 0


def _schema(args) -> int:
    from rimmodel.config.schema import schema_json

    print(schema_json(), end="")
    return 0


def _completion(args) -> int:
    from rimmodel.completion import bash_script

    print(bash_script(_parser()), end="")
    return 0


def _parameters(args) -> int:
    from rimmodel.config.table import parameter_table, with_table

    if args.update:
        args.update.write_text(with_table(args.update.read_text()))
    else:
        print(parameter_table())
    return 0


def _show_config(args) -> int:
    from rimmodel.config import load_config
    from rimmodel.config.annotated import annotated_toml

    print(annotated_toml(load_config(args.config, args.overrides)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
