"""Every geometry kind and the function that builds it."""

from __future__ import annotations

from rimmodel.config.parameters import GeometryParameters, LesionParameters
from rimmodel.geometry.cortical_section import cortical_section, cortical_slab
from rimmodel.geometry.domain import Domain
from rimmodel.geometry.mesh_file import read_domain
from rimmodel.geometry.mni import mni_brain, mni_slice
from rimmodel.geometry.periventricular import periventricular, periventricular_section
from rimmodel.geometry.radial import axisymmetric_lesion, spherical_lesion
from rimmodel.geometry.sulcus import cortical_sulcus, sulcus_slab

GENERATORS = {"cortical_section": cortical_section, "cortical_slab": cortical_slab,
              "cortical_sulcus": cortical_sulcus, "sulcus_slab": sulcus_slab,
              "periventricular_section": periventricular_section, "periventricular": periventricular,
              "mni_slice": mni_slice, "mni_brain": mni_brain, "spherical_lesion": spherical_lesion,
              "axisymmetric_lesion": axisymmetric_lesion}
# gmsh shapes refine the mesh around the seeded lesion, so they need to know where it is
REFINED_AROUND_LESION = ("cortical_sulcus", "sulcus_slab", "periventricular_section", "periventricular")


def build_domain(params: GeometryParameters, comm, lesion: LesionParameters | None = None) -> Domain:
    """The geometry ``params.kind``; ``lesion`` (optional) places the gmsh shapes' refinement. Collective."""
    if params.kind == "file":
        return read_domain(params.mesh_file, comm)
    if params.kind in REFINED_AROUND_LESION:
        return GENERATORS[params.kind](params, comm, lesion)
    return GENERATORS[params.kind](params, comm)
