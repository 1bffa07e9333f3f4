"""``rimmodel mesh NAME``: build a geometry, write it with its tags (XDMF), print its quality."""

from __future__ import annotations

import time
from pathlib import Path

from rimmodel.config.parameters import GEOMETRY_KINDS


def register(commands) -> None:
    mesh = commands.add_parser("mesh", help="build a geometry, write it (XDMF with tags), report its quality")
    mesh.add_argument("kind", choices=GEOMETRY_KINDS, metavar="NAME", help=", ".join(GEOMETRY_KINDS))
    mesh.add_argument("--size", type=float, help="target cell size in mm (geometry.mesh_size)")
    mesh.add_argument("--set", dest="overrides", action="append", default=[], metavar="geometry.KEY=VALUE",
                      help="override a geometry value, or a lesion value to place the refinement "
                      "(e.g. --set geometry.sulcus_count=2); repeatable")
    mesh.add_argument("--out", type=Path, help="XDMF file (default: runs/meshes/NAME.xdmf); "
                      "run with geometry.kind = 'file', geometry.mesh_file = this path")
    mesh.set_defaults(handler=_mesh)


def mesh_parameters(kind: str, size: float | None, overrides: list[str]):
    """Validated geometry and lesion parameters from the command line."""
    from rimmodel.config import ConfigError
    from rimmodel.config.geometry_checks import check_geometry, check_lesion_seed
    from rimmodel.config.loading import apply_override, build_section
    from rimmodel.config.parameters import GeometryParameters, LesionParameters
    from rimmodel.geometry import REFINED_AROUND_LESION

    raw: dict = {}
    for item in overrides:
        if not item.strip().startswith(("geometry.", "lesion.")):
            raise ConfigError(f"--set {item!r}: rimmodel mesh takes geometry.KEY=VALUE or lesion.KEY=VALUE")
        apply_override(raw, item)
    raw.setdefault("geometry", {})["kind"] = kind
    if size is not None:
        raw["geometry"]["mesh_size"] = size
    geometry = build_section(GeometryParameters, raw["geometry"], "geometry.")
    lesion = build_section(LesionParameters, raw.get("lesion", {}), "lesion.")
    check_geometry(geometry)
    if kind in REFINED_AROUND_LESION:  # only these use the lesion
        check_lesion_seed(geometry, lesion)
    return geometry, lesion


def _mesh(args) -> int:
    from rimmodel.fem import MPI
    from rimmodel.geometry import build_domain
    from rimmodel.geometry.mesh_file import write_domain
    from rimmodel.geometry.quality import quality_report

    geometry, lesion = mesh_parameters(args.kind, args.size, args.overrides)
    comm = MPI.COMM_WORLD
    out = args.out or Path("runs") / "meshes" / f"{args.kind}.xdmf"
    started = time.perf_counter()
    domain = build_domain(geometry, comm, lesion)
    built = time.perf_counter() - started
    if comm.rank == 0:
        out.parent.mkdir(parents=True, exist_ok=True)
    comm.barrier()
    write_domain(domain, out)
    report = quality_report(domain)
    if comm.rank == 0:
        print(report.text())
        print(f"  built in {built:.1f} s on {comm.size} rank(s) -> {out}")
    return 0
