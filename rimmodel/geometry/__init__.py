"""Geometries: each returns a :class:`Domain` (mesh + cell tags + facet tags)."""

from rimmodel.config.parameters import GeometryParameters
from rimmodel.geometry.cortical_section import cortical_section, cortical_slab
from rimmodel.geometry.domain import (CORTEX, OUTER, PIAL, VENTRICLE, WHITE_MATTER, Domain)

GENERATORS = {"cortical_section": cortical_section, "cortical_slab": cortical_slab}


def build_domain(params: GeometryParameters, comm) -> Domain:
    return GENERATORS[params.kind](params, comm)


__all__ = ["CORTEX", "OUTER", "PIAL", "VENTRICLE", "WHITE_MATTER", "Domain", "build_domain"]
