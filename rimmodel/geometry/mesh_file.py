"""A domain on disk: XDMF mesh + cell tags + facet tags + how to seed a lesion in it.

Written by ``rimmodel mesh``; read by geometry kind ``file``. Reading partitions
the mesh over the ranks of ``comm`` (any number, independent of the writer's).
The seed ray (see :mod:`rimmodel.geometry.seed`) travels as XDMF Information.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from xml.etree import ElementTree

import h5py
import numpy as np

from rimmodel.config import ConfigError
from rimmodel.fem import MPI, io, mesh as dmesh
from rimmodel.geometry.domain import Domain
from rimmodel.geometry.seed import SeedLocator, VerticalRay, seeded_domain
from rimmodel.io.unreadable import UnreadableFile, hdf5_diagnostics_silenced, hdf5_file, one_line

_INFORMATION = "rimmodel_geometry"
_DIGESTS = "rimmodel_sha256"  # attribute of the .h5 root: {dataset: SHA-256}, written by write_domain
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
    msh.comm.Barrier()  # every rank's part is in the .h5
    if msh.comm.rank == 0:
        with h5py.File(Path(path).with_suffix(".h5"), "a") as h5:
            h5.attrs[_DIGESTS] = json.dumps(_digests(h5))
    msh.comm.Barrier()


def read_domain(path: str | Path, comm=MPI.COMM_WORLD) -> Domain:
    """The domain in ``path``, distributed over ``comm``. Collective."""
    path = Path(path)
    if not path.is_file() or not path.with_suffix(".h5").is_file():
        raise FileNotFoundError(f"geometry.mesh_file = {str(path)!r}: no XDMF mesh (with its .h5) there; "
                                f"write one with `rimmodel mesh KIND --out {path}`")
    problem = comm.bcast(_damage(path) if comm.rank == 0 else None, root=0)
    if problem:
        raise ConfigError(f"geometry.mesh_file = {str(path)!r}: {problem}; write it again with `rimmodel mesh`")
    try:
        with hdf5_diagnostics_silenced(), io.XDMFFile(comm, str(path), "r") as xdmf:
            msh = xdmf.read_mesh(ghost_mode=dmesh.GhostMode.none, name=MESH_NAME)
            tdim = msh.topology.dim
            msh.topology.create_connectivity(tdim - 1, tdim)
            cell_tags = xdmf.read_meshtags(msh, CELL_TAGS)
            facet_tags = xdmf.read_meshtags(msh, FACET_TAGS)
            information = json.loads(xdmf.read_information(_INFORMATION))
            ray = VerticalRay.from_dict(information["seed_ray"])
    except (RuntimeError, ValueError, KeyError, TypeError) as error:  # what the checks above cannot see
        raise ConfigError(f"geometry.mesh_file = {str(path)!r}: not a mesh written by `rimmodel mesh` "
                          f"({one_line(error)})") from None
    return seeded_domain(msh, cell_tags, facet_tags, information["name"], ray)


def _damage(path: Path) -> str:
    """What is wrong with the XDMF file and its .h5 (rank 0, h5py: silent and cheap), or ''.
    Every HDF5 data item must live in the .h5 beside it, exist, and have the shape the XDMF gives."""
    heavy = path.with_suffix(".h5")
    try:
        items = [item for item in ElementTree.parse(path).getroot().iter("DataItem")
                 if item.get("Format") == "HDF"]
    except (OSError, ElementTree.ParseError) as error:
        return f"unreadable XDMF ({one_line(error)})"
    if not items:
        return "the XDMF file holds no mesh data"
    try:
        with hdf5_file(heavy, "mesh data") as h5:
            for item in items:
                filename, _, dataset = (item.text or "").strip().partition(":")
                if filename != heavy.name:
                    return f"its data item {filename!r} is not {heavy.name} beside it"
                shape = tuple(int(n) for n in item.get("Dimensions", "").split())
                if dataset not in h5 or not isinstance(h5[dataset], h5py.Dataset) or h5[dataset].shape != shape:
                    return f"{heavy}: no dataset {dataset} of shape {shape}"
            if _DIGESTS in h5.attrs and json.loads(h5.attrs[_DIGESTS]) != _digests(h5):
                return f"{heavy}: its data differ from what `rimmodel mesh` wrote (SHA-256 mismatch)"
    except (UnreadableFile, ValueError) as error:
        return one_line(error)
    return ""


def _digests(h5: h5py.File) -> dict[str, str]:
    """SHA-256 of every dataset (shape, type and bytes): damage inside the data, which HDF5 itself
    does not notice, shows as a mismatch."""
    found = {}

    def digest(name, item):
        if isinstance(item, h5py.Dataset):
            values = np.ascontiguousarray(item[()])
            found[name] = hashlib.sha256(f"{values.dtype.str}{values.shape}".encode() + values.tobytes()).hexdigest()

    h5.visititems(digest)
    return found


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
