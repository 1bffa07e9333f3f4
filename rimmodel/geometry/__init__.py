"""Geometries: each returns a :class:`Domain` (mesh + cell tags + facet tags).

The built-in section and slab are made by dolfinx itself; the sulcus and
periventricular shapes by gmsh; the ``mni_*`` meshes from nilearn's MNI152
tissue maps; ``file`` reads a mesh written by ``rimmodel mesh`` (meshes/README.md).
"""

from importlib import import_module

# Resolved on first use, so that ``rimmodel --help`` (which registers ``rimmodel mesh`` from
# rimmodel.geometry.mesh_cli) does not load the FEM stack.
_EXPORTS = {
    "CORTEX": "rimmodel.geometry.domain",
    "OUTER": "rimmodel.geometry.domain",
    "PIAL": "rimmodel.geometry.domain",
    "VENTRICLE": "rimmodel.geometry.domain",
    "WHITE_MATTER": "rimmodel.geometry.domain",
    "Domain": "rimmodel.geometry.domain",
    "GENERATORS": "rimmodel.geometry.generators",
    "REFINED_AROUND_LESION": "rimmodel.geometry.generators",
    "build_domain": "rimmodel.geometry.generators",
    "read_domain": "rimmodel.geometry.mesh_file",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'rimmodel.geometry' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
