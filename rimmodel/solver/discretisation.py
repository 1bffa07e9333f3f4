"""From a Domain and a config to function spaces, tissue data and the initial state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import ufl

from rimmodel.config.parameters import ModelConfig
from rimmodel.fem import fem
from rimmodel.geometry.domain import PIAL, WHITE_MATTER, Domain
from rimmodel.physics.equations import Tissue
from rimmodel.physics.fields import FieldSet
from rimmodel.physics.follicles import follicle_density
from rimmodel.physics.initial_state import initial_fields
from rimmodel.solver.weighted_measure import with_volume_element


@dataclass
class Discretisation:
    domain: Domain
    space: fem.FunctionSpace         # blocked: one Lagrange component per field
    scalar_space: fem.FunctionSpace  # one component, same degree
    component_dofs: list[np.ndarray]  # dofs of field i inside the blocked array
    tissue: Tissue
    fields: FieldSet                  # what the components are, in order

    @property
    def n_fields(self) -> int:
        return len(self.fields)

    def dofs(self, name: str) -> np.ndarray:
        """Where field ``name`` sits inside the blocked array."""
        return self.component_dofs[self.fields.index(name)]

    def global_dofs(self) -> int:
        index_map = self.space.dofmap.index_map
        return index_map.size_global * self.space.dofmap.index_map_bs


def discretise(domain: Domain, config: ModelConfig, fields: FieldSet) -> Discretisation:
    """One Lagrange component per field of ``fields`` (the equations' ``fields``)."""
    degree = config.discretisation.degree
    msh = domain.mesh
    space = fem.functionspace(msh, ("Lagrange", degree, (len(fields),)))
    scalar_space, _ = space.sub(0).collapse()
    # collapse() maps each scalar dof to its place in the blocked array (returned as a list of arrays)
    component_dofs = [np.concatenate(space.sub(i).collapse()[1]) for i in range(len(fields))]
    tissue = build_tissue(domain, scalar_space, config)
    return Discretisation(domain, space, scalar_space, component_dofs, tissue, fields)


def build_tissue(domain: Domain, scalar_space, config: ModelConfig) -> Tissue:
    msh = domain.mesh
    cell_space = fem.functionspace(msh, ("DG", 0))
    white_matter = fem.Function(cell_space, name="white_matter")
    white_matter.x.array[domain.cell_tags.find(WHITE_MATTER)] = 1.0
    white_matter.x.scatter_forward()

    density = fem.Function(scalar_space, name="follicle_density")
    density.interpolate(lambda x: follicle_density(x, config.follicles.patches))
    density.x.scatter_forward()

    if config.discretisation.mass_lumping:
        dx_reaction = ufl.Measure("dx", domain=msh, subdomain_data=domain.cell_tags,
                                  metadata={"quadrature_rule": "vertex", "quadrature_degree": 1})
    else:
        dx_reaction = ufl.Measure("dx", domain=msh, subdomain_data=domain.cell_tags)
    dx = ufl.Measure("dx", domain=msh, subdomain_data=domain.cell_tags)
    ds = ufl.Measure("ds", domain=msh, subdomain_data=domain.facet_tags)
    dx, dx_reaction, ds = with_volume_element(domain, dx, dx_reaction, ds, config.discretisation.mass_lumping)
    return Tissue(white_matter=white_matter, follicle_density=density, dx=dx,
                  dx_reaction=dx_reaction, ds_pial=ds(PIAL))


def set_initial_state(state: fem.Function, disc: Discretisation, config: ModelConfig) -> None:
    lesion = config.lesion
    centre = disc.domain.lesion_centre(lesion.depth_below_pia, lesion.centre_x)
    points = disc.scalar_space.tabulate_dof_coordinates().T
    values = initial_fields(points, centre, lesion, disc.fields)
    for name, value in values.items():
        state.x.array[disc.dofs(name)] = value
    state.x.scatter_forward()


def refresh_follicle_density(disc: Discretisation, config: ModelConfig) -> None:
    disc.tissue.follicle_density.interpolate(lambda x: follicle_density(x, config.follicles.patches))
    disc.tissue.follicle_density.x.scatter_forward()
