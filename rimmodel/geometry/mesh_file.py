"""A domain on disk: XDMF mesh + cell tags + facet tags + how to seed a lesion in it.

Written by ``rimmodel mesh``; read by geometry kind ``file``. Reading partitions
the mesh over the ranks of ``comm`` (any number, independent of the writer's).
The seed ray (see :mod:`rimmodel.geometry.seed`) travels as XDMF Information.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rimmodel.fem import MPI, io, mesh as dmesh
from rimmodel.geometry.domain import Domain
from rimmodel.geometry.seed import SeedLocator, VerticalRay, seeded_domain

_INFORMATION = "rimmodel_geometry"
MESH_NAME, CELL_TAGS, FACET_TAGS = "mesh", "cell_tags", "facet_tags"


def write_domain(domain: Domain, path: str | Path) -> None:
    """Collective. Tags get the names the reader looks for."""
    msh = domain.mesh
    tdim = msh.topology.dim
    msh.name = MESH_NAME
    domain.cell_tags.name, domain.facet_tags.name = CELL_TAGS, FACET_TAGS
    msh.topology.create_connectivity(tdim - 1, tdim)
    information = json.dumps({"name": domain.name, "seed_ray": _seed_ray(domain).to_dict()})
    with io.XDMFFile(msh.comm, str(path), "w") as xdmf:
        xdmf.write_mesh(msh)
        xdmf.write_meshtags(domain.cell_tags, msh.geometry)
        xdmf.write_meshtags(domain.facet_tags, msh.geometry)
        xdmf.write_information(_INFORMATION, information)


def read_domain(path: str | Path, comm=MPI.COMM_WORLD) -> Domain:
    """The domain in ``path``, distributed over ``comm``. Collective."""
    path = Path(path)
    if not path.is_file() or not path.with_suffix(".h5").is_file():
        raise FileNotFoundError(f"geometry.mesh_file = {str(path)!r}: no XDMF mesh (with its .h5) there; "
                                f"write one with `rimmodel mesh KIND --out {path}`")
    with io.XDMFFile(comm, str(path), "r") as xdmf:
        msh = xdmf.read_mesh(ghost_mode=dmesh.GhostMode.none, name=MESH_NAME)
        tdim = msh.topology.dim
        msh.topology.create_connectivity(tdim - 1, tdim)
        cell_tags = xdmf.read_meshtags(msh, CELL_TAGS)
        facet_tags = xdmf.read_meshtags(msh, FACET_TAGS)
        information = json.loads(xdmf.read_information(_INFORMATION))
    return seeded_domain(msh, cell_tags, facet_tags, information["name"],
                         VerticalRay.from_dict(information["seed_ray"]))


def _seed_ray(domain: Domain) -> VerticalRay:
    """The domain's own ray, or for the built-in section and slab: down y, mid-depth in z."""
    if isinstance(domain.lesion_centre_fn, SeedLocator):
        return domain.lesion_centre_fn.ray
    x, comm = domain.mesh.geometry.x, domain.mesh.comm
    if domain.dim == 2:
        return VerticalRay(0, 1)
    low = comm.allreduce(x[:, 2].min(initial=np.inf), op=MPI.MIN)
    high = comm.allreduce(x[:, 2].max(initial=-np.inf), op=MPI.MAX)
    return VerticalRay(0, 1, {2: 0.5 * (low + high)})
