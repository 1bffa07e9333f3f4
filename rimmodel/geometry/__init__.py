"""Geometries: each returns a :class:`Domain` (mesh + cell tags + facet tags).

The built-in section and slab are made by dolfinx itself; the sulcus and
periventricular shapes by gmsh; the ``mni_*`` meshes from nilearn's MNI152
tissue maps; ``file`` reads a mesh written by ``rimmodel mesh`` (meshes/README.md).
"""

from rimmodel.lazy_exports import lazy_exports

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
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
