"""``rimmodel study STUDY.toml`` and ``rimmodel analyze STUDY_DIR``."""

from __future__ import annotations

import sys
from pathlib import Path


def register(commands) -> None:
    from rimmodel.study.analysis import STATISTICS

    study = commands.add_parser("study", help="a sampled parameter study (MPI groups, resumable)")
    study.add_argument("study", type=Path, help="study TOML (see experiments/studies/)")
    study.add_argument("--out", type=Path, help="study directory (default: runs/<study name>); "
                       "rerun with the same --out to continue a stopped study")
    study.add_argument("--ranks-per-run", type=int, help="override study.ranks_per_run (an execution "
                       "setting: a study may continue with a different value)")
    study.add_argument("--part", metavar="K/N", help="run only samples with index %% N == K (task K of a "
                       "job array of N); the results file is left to a final run without --part")
    study.add_argument("--collect", action="store_true", help="run nothing: write the results file from "
                       "what has finished (unfinished samples are marked pending)")
    study.add_argument("--quiet", action="store_true", help="no progress lines")
    study.add_argument("--draws", type=Path, help="posterior draws (rimmodel calibrate's *_draws.csv): run the "
                       "whole study once per chosen draw, in OUT/draw-000, ...; columns may not be parameters "
                       "the study sweeps or fixes")
    study.add_argument("--draws-count", type=int, default=8, help="posterior draws to run (default 8)")
    study.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                       help="override a model config value for every run (e.g. --set time.end=2) or a study "
                            "setting (--set study.samples=8); repeatable")
    study.set_defaults(handler=_study)

    analyze = commands.add_parser("analyze", help="Sobol' / Morris / delta indices of a finished study, with plots")
    analyze.add_argument("study_dir", type=Path)
    analyze.add_argument("--observable", help="observable to analyse (default: the first kept)")
    analyze.add_argument("--statistic", default="final", choices=list(STATISTICS),
                         help="; ".join(f"{k}: {v}" for k, v in STATISTICS.items()))
    analyze.add_argument("--seed", type=int, default=0, help="seed of the bootstrap confidence intervals")
    analyze.set_defaults(handler=_analyze)


def _study(args) -> int:
    from rimmodel.fem import MPI  # PETSc installs its signal handlers on import: the guard replaces them
    from rimmodel.interrupts import Interrupted, deferred_signals

    try:
        with deferred_signals():
            return _run_or_collect(args)
    except Interrupted as stop:
        if MPI.COMM_WORLD.rank == 0:
            again = " ".join(["rimmodel study", str(args.study), "--out", str(_out(args)),
                              *(["--part", args.part] if args.part else []),
                              *(["--ranks-per-run", str(args.ranks_per_run)] if args.ranks_per_run else []),
                              *(["--draws", str(args.draws), "--draws-count", str(args.draws_count)]
                                if args.draws is not None else [])])
            launcher = f"mpirun -n {MPI.COMM_WORLD.size} " if MPI.COMM_WORLD.size > 1 else ""
            print(f"rimmodel: study {stop}; continue with: {launcher}{again}", file=sys.stderr)
        return stop.exit_code


def _out(args) -> Path:
    return args.out or Path("runs") / args.study.stem


def _run_or_collect(args) -> int:
    from rimmodel.fem import MPI
    from rimmodel.study.results import read_results
    from rimmodel.study.runner import collect_study, run_study
    from rimmodel.study.spec import load_study

    spec = load_study(args.study, args.overrides)  # validated before anything runs
    if args.ranks_per_run is not None:
        spec.parameters.ranks_per_run = args.ranks_per_run
    from rimmodel.io.output_dir import check_output_directory

    out = check_output_directory(_out(args))
    if args.draws is not None:
        return _over_draws(args, spec, out)
    if args.collect:
        results_file = collect_study(spec, out) if MPI.COMM_WORLD.rank == 0 else None
    else:
        part = _part(args.part)
        results_file = run_study(spec, out, MPI.COMM_WORLD, progress=not args.quiet, part=part,
                                 collect=args.part is None)
        if args.part is not None:
            return 0
    if MPI.COMM_WORLD.rank == 0:
        results = read_results(out)
        counts = {s: int((results.status == s).sum()) for s in ("completed", "failed", "pending")}
        print(f"rimmodel: study -> {results_file} ({counts['completed']} completed, {counts['failed']} failed, "
              f"{counts['pending']} pending)")
    return 0


def _over_draws(args, spec, out: Path) -> int:
    from rimmodel.fem import MPI
    from rimmodel.study.draws import DRAWS_TABLE, collect_over_draws, run_study_over_draws

    if args.collect:
        found = collect_over_draws(spec, args.draws, args.draws_count, out) if MPI.COMM_WORLD.rank == 0 else []
    else:
        found = run_study_over_draws(spec, args.draws, args.draws_count, out, MPI.COMM_WORLD,
                                     progress=not args.quiet, part=_part(args.part), collect=args.part is None)
        if args.part is not None:
            return 0
    if MPI.COMM_WORLD.rank == 0:
        print(f"rimmodel: study over {len(found)} posterior draws -> {out / DRAWS_TABLE}, "
              + ", ".join(str(path) for path in found))
    return 0


def _part(text: str | None) -> tuple[int, int]:
    from rimmodel.config import ConfigError

    if text is None:
        return 0, 1
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise ConfigError(f"--part {text!r}: expected K/N, e.g. 3/8") from None
    if not (n >= 1 and 0 <= k < n):
        raise ConfigError(f"--part {text!r}: need N >= 1 and 0 <= K < N")
    return k, n


def _analyze(args) -> int:
    from rimmodel.study.analysis import analyze

    found = analyze(args.study_dir, args.observable, args.statistic, args.seed)
    indices = found["indices"]
    print(f"{found['observable']} ({found['statistic']}); {found['analysed']} of {found['samples']} samples analysed")
    for why, excluded in found["excluded"].items():
        print(f"  excluded, {why}: {len(excluded)} (samples {', '.join(map(str, excluded))}); the indices "
              f"describe the samples that have a value")
    print("  ".join(["parameter".ljust(36), *(k.rjust(12) for k in indices)]))
    for j, name in enumerate(found["names"]):
        print("  ".join([name.ljust(36), *(f"{indices[k][j]:12.4g}" for k in indices)]))
    print(f"rimmodel: {found['table']}, {found['figure']}")
    return 0
