"""Geometries of revolution: a lesion in a ball of white matter (1D in r), or beneath the pia (2D in r-z).

* ``spherical_lesion``: an isolated lesion in homogeneous white matter is spherically symmetric,
  so the full model reduces to one radial coordinate. The mesh is the interval
  [0, outer_radius] (x[0] = r); the Domain's spherical coordinates put r^2 into every integral.
  r = 0 is the lesion centre, not a boundary of the tissue: the weak form needs no condition
  there (the weight vanishes), which is the symmetry condition du/dr = 0. r = outer_radius is a
  no-flux wall, tagged outer. There is no cortex and no pia.
* ``axisymmetric_lesion``: a lesion on the axis of a cylinder of tissue (white matter under a
  cortical ribbon, the pia on top), the cortical section's mesh read as (r, z) with r = x in
  [0, width]: the body of revolution about the lesion's vertical axis. A follicle patch centred
  at r = 0 on the pia is a disc above the lesion. The axis r = 0 is tagged outer (no flux: the
  symmetry condition; the 2 pi r weight vanishes there anyway).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from rimmodel.config.parameters import GeometryParameters
from rimmodel.fem import MPI, mesh as dmesh
from rimmodel.geometry.coordinates import AXISYMMETRIC, SPHERICAL, Coordinates
from rimmodel.geometry.cortical_section import cortical_section
from rimmodel.geometry.domain import OUTER, WHITE_MATTER, Domain


def spherical_lesion(params: GeometryParameters, comm=MPI.COMM_WORLD) -> Domain:
    cells = max(math.ceil(params.outer_radius / params.mesh_size), 1)
    msh = dmesh.create_interval(comm, cells, [0.0, params.outer_radius])
    outer = dmesh.locate_entities_boundary(
        msh, 0, lambda x: np.isclose(x[0], params.outer_radius, rtol=0.0, atol=1e-10 * params.outer_radius))
    return Domain(msh, white_matter_tags(msh), dmesh.meshtags(msh, 0, outer.astype(np.int32),
                                                              np.full(outer.size, OUTER, np.int32)),
                  name="spherical_lesion", lesion_centre_fn=lambda depth, horizontal: (0.0,),
                  coordinates=Coordinates(SPHERICAL))


def axisymmetric_lesion(params: GeometryParameters, comm=MPI.COMM_WORLD) -> Domain:
    section = cortical_section(params, comm)
    height = params.white_matter_depth + params.cortex_thickness
    return dataclasses.replace(section, name="axisymmetric_lesion", coordinates=Coordinates(AXISYMMETRIC),
                               lesion_centre_fn=lambda depth, horizontal: (0.0, height - depth))


def white_matter_tags(msh) -> dmesh.MeshTags:
    """Every local cell (owned and ghost) is white matter."""
    tdim = msh.topology.dim
    count = msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts
    return dmesh.meshtags(msh, tdim, np.arange(count, dtype=np.int32), np.full(count, WHITE_MATTER, np.int32))
