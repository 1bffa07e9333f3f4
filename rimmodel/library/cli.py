"""``rimmodel library build LIBRARY.toml --out FILE.h5`` and ``rimmodel library query FILE.h5 --set k=v``."""

from __future__ import annotations

import sys
from pathlib import Path


def register(commands) -> None:
    library = commands.add_parser("library", help="lesion libraries: radial trajectories over a parameter "
                                  "box (build, under MPI), and queries that do not solve (docs/radial.md)")
    actions = library.add_subparsers(required=True, metavar="ACTION")
    build = actions.add_parser("build", help="run a library TOML (a study TOML of the radial model) into HDF5")
    build.add_argument("spec", type=Path, help="library TOML (see experiments/libraries/)")
    build.add_argument("--out", type=Path, help="library file (default: runs/<spec name>.h5)")
    build.add_argument("--batch-size", type=int, default=128, help="samples advanced together per rank")
    build.add_argument("--overwrite", action="store_true", help="replace an existing library file")
    build.set_defaults(handler=_build)
    query = actions.add_parser("query", help="trajectories at new parameter values, from the library")
    query.add_argument("library", type=Path)
    query.add_argument("--set", dest="values", action="append", default=[], metavar="KEY=VALUE",
                       help="a library parameter, e.g. --set microglia.activation_rate=2.2 (every one needed)")
    query.add_argument("--series", nargs="+",
                       help="series to print (default: lesion radius and volume, rim thickness, iron, tissue and "
                       "axon loss; any series of the library: rimmodel.batch.observables.PART_SERIES)")
    query.set_defaults(handler=_query)


def _build(args) -> int:
    from rimmodel.config import ConfigError
    from rimmodel.fem import MPI
    from rimmodel.library.build import build_library, check_library_study
    from rimmodel.study.spec import load_study

    study = load_study(args.spec)
    check_library_study(study)
    out = args.out or Path("runs") / f"{args.spec.stem}.h5"
    if out.exists() and not args.overwrite:
        raise ConfigError(f"{out} already exists; choose another --out or pass --overwrite (it is left untouched)")
    if args.batch_size < 1:
        raise ConfigError(f"--batch-size = {args.batch_size}: allowed 1 or more")
    comm = MPI.COMM_WORLD

    def progress(done: int, total: int) -> None:
        if comm.rank == 0:
            print(f"rimmodel library: rank 0 has run {done}/{total} of its samples", file=sys.stderr, flush=True)

    build_library(study, out, comm, args.batch_size, progress)
    if comm.rank == 0:
        print(f"rimmodel: library of {len(study.names)} parameters -> {out}")
    return 0


def _query(args) -> int:
    from rimmodel.config import ConfigError
    from rimmodel.library.emulator import LesionLibrary
    from rimmodel.library.layout import DEFAULT_QUERY_SERIES

    library = LesionLibrary(args.library)
    point = {}
    for item in args.values:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE")
        try:
            point[key.strip()] = float(value)
        except ValueError as error:
            raise ConfigError(f"--set {item!r}: {value!r} is not a number") from error
    names = args.series or [name for name in DEFAULT_QUERY_SERIES if name in library.series]
    if not args.series and len(names) < len(DEFAULT_QUERY_SERIES):
        missing = ", ".join(name for name in DEFAULT_QUERY_SERIES if name not in library.series)
        print(f"rimmodel library: {args.library} (format version {library.version}) has no {missing}; "
              f"rebuild it to have them", file=sys.stderr)
    found = library.query(point, names)
    print("time_yr," + ",".join(f"{n}_{library.units[n]}" for n in names))
    for i, t in enumerate(library.times):
        print(f"{t:g}," + ",".join(f"{found[n][0, i]:.6g}" for n in names))
    return 0
