"""Lesion readouts per part of a batched radial mesh, with the definitions of ``rimmodel.observables``.

Each integral is assembled once for the whole batch as a vector against a DG0 test
function (one entry per cell) and summed per part: the cost is one assembly per
quantity per output, whatever the number of parts.
"""

from __future__ import annotations

import math

import numpy as np
import ufl

from rimmodel.batch.parts import RadialParts
from rimmodel.config.parameters import ObservableParameters
from rimmodel.fem import MPI, fem
from rimmodel.observables import RADIAL_INDICATOR_QUADRATURE
from rimmodel.solver.weighted_measure import volume_measure

# name -> unit; sizes are 3D volumes (spherical coordinates)
PART_SERIES = {
    "lesion_size": "mm^3", "lesion_equivalent_radius": "mm", "rim_size": "mm^3", "rim_thickness": "mm",
    "rim_mean_microglia": "1", "myelin_loss": "mm^3", "axon_loss": "mm^3", "microglia_total": "mm^3",
}


class PartObservables:
    def __init__(self, parts: RadialParts, state: fem.Function, params: ObservableParameters):
        self.parts = parts
        msh = parts.domain.mesh
        m, y, a = state[0], state[3], state[4]
        self.myelin_threshold = fem.Constant(msh, params.myelin_threshold)
        self.microglia_threshold = fem.Constant(msh, params.microglia_threshold)
        lesion = ufl.conditional(ufl.lt(y, self.myelin_threshold), 1.0, 0.0)
        rim = ufl.conditional(ufl.gt(m, self.microglia_threshold), 1.0, 0.0) * (1.0 - lesion)
        dx = volume_measure(parts.domain)
        dxq = dx(metadata={"quadrature_degree": RADIAL_INDICATOR_QUADRATURE})
        per_cell = ufl.TestFunction(parts.cell_space)
        self.forms = {
            "lesion_size": fem.form(lesion * per_cell * dxq),
            "rim_size": fem.form(rim * per_cell * dxq),
            "rim_microglia": fem.form(rim * m * per_cell * dxq),
            "myelin_loss": fem.form((1 - y) * per_cell * dx),
            "axon_loss": fem.form((1 - a) * per_cell * dx),
            "microglia_total": fem.form(m * per_cell * dx),
        }
        self.cell_dofs = parts.cell_space.dofmap.list[:parts.owned_cells, 0]

    def _per_part(self, form) -> np.ndarray:
        cells = fem.assemble_vector(form).array[self.cell_dofs]  # owned cells only: no double counting
        local = np.bincount(self.parts.part_of_cell[:self.parts.owned_cells], weights=cells,
                            minlength=self.parts.parts)
        return self.parts.domain.mesh.comm.allreduce(local, op=MPI.SUM)

    def evaluate(self) -> dict[str, np.ndarray]:
        """Every series in ``PART_SERIES``, one value per part. Collective."""
        values = {name: self._per_part(form) for name, form in self.forms.items()}
        lesion_radius = _equivalent_radius(values["lesion_size"])
        rim_microglia = values.pop("rim_microglia")
        values["lesion_equivalent_radius"] = lesion_radius
        values["rim_thickness"] = _equivalent_radius(values["lesion_size"] + values["rim_size"]) - lesion_radius
        rim = values["rim_size"]
        values["rim_mean_microglia"] = np.divide(rim_microglia, rim, out=np.zeros_like(rim), where=rim > 0)
        return values


def _equivalent_radius(volume: np.ndarray) -> np.ndarray:
    return (3.0 * volume / (4.0 * math.pi)) ** (1 / 3)
