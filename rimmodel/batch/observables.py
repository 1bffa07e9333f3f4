"""Lesion readouts per part of a batched radial mesh, with the definitions of ``rimmodel.observables``.

All integrals are assembled at once for the whole batch, as one vector against a vector
DG0 test function (one entry per cell and quantity), and summed per part: one assembly
per output, whatever the number of parts.
"""

from __future__ import annotations

import math

import numpy as np
import ufl

from rimmodel.batch.parts import RadialParts
from rimmodel.config.parameters import ObservableParameters
from rimmodel.fem import MPI, fem
from rimmodel.observables import RADIAL_INDICATOR_QUADRATURE
from rimmodel.physics.equations import FIELDS
from rimmodel.solver.weighted_measure import volume_measure

# name -> unit; sizes are 3D volumes (spherical coordinates)
PART_SERIES = {
    "lesion_size": "mm^3", "lesion_equivalent_radius": "mm", "rim_size": "mm^3", "rim_thickness": "mm",
    "rim_mean_microglia": "1", "myelin_loss": "mm^3", "axon_loss": "mm^3", "microglia_total": "mm^3",
    "tissue_loss": "mm^3", "iron_total": "mm^3", "iron_rim_size": "mm^3",
}


class PartObservables:
    def __init__(self, parts: RadialParts, state: fem.Function, params: ObservableParameters):
        self.parts = parts
        msh = parts.domain.mesh
        values = FIELDS.split(state)
        m, y, a = values["microglia"], values["myelin"], values["axons"]
        self.myelin_threshold = fem.Constant(msh, params.myelin_threshold)
        self.microglia_threshold = fem.Constant(msh, params.microglia_threshold)
        self.iron_threshold = fem.Constant(msh, params.iron_threshold)
        lesion = ufl.conditional(ufl.lt(y, self.myelin_threshold), 1.0, 0.0)
        rim = ufl.conditional(ufl.gt(m, self.microglia_threshold), 1.0, 0.0) * (1.0 - lesion)
        dx = volume_measure(parts.domain)
        dxq = dx(metadata={"quadrature_degree": RADIAL_INDICATOR_QUADRATURE})
        # one vector form (a component per quantity): one compilation and one assembly per output
        iron_rim = ufl.conditional(ufl.gt(values["iron"], self.iron_threshold), 1.0, 0.0)  # phase-rim proxy
        thresholded = {"lesion_size": lesion, "rim_size": rim, "rim_microglia": rim * m, "iron_rim_size": iron_rim}
        smooth = {"myelin_loss": 1 - y, "axon_loss": 1 - a, "microglia_total": m,
                  "tissue_loss": 1 - values["tissue"], "iron_total": values["iron"]}
        self.names = list(thresholded) + list(smooth)
        space = fem.functionspace(msh, ("DG", 0, (len(self.names),)))
        v = ufl.TestFunction(space)
        self.form = fem.form(sum(q * v[i] for i, q in enumerate(thresholded.values())) * dxq
                             + sum(q * v[i] for i, q in enumerate(smooth.values(), start=len(thresholded))) * dx)
        self.cell_blocks = space.dofmap.list[:parts.owned_cells, 0]

    def _per_part(self) -> np.ndarray:
        """(quantities, parts): owned cells only, so nothing is counted twice."""
        cells = fem.assemble_vector(self.form).array.reshape(-1, len(self.names))[self.cell_blocks]
        part = self.parts.part_of_cell[:self.parts.owned_cells]
        local = np.stack([np.bincount(part, weights=cells[:, i], minlength=self.parts.parts)
                          for i in range(len(self.names))])
        return self.parts.domain.mesh.comm.allreduce(local, op=MPI.SUM)

    def evaluate(self) -> dict[str, np.ndarray]:
        """Every series in ``PART_SERIES``, one value per part. Collective."""
        values = dict(zip(self.names, self._per_part()))
        lesion_radius = _equivalent_radius(values["lesion_size"])
        rim_microglia = values.pop("rim_microglia")
        values["lesion_equivalent_radius"] = lesion_radius
        values["rim_thickness"] = _equivalent_radius(values["lesion_size"] + values["rim_size"]) - lesion_radius
        rim = values["rim_size"]
        values["rim_mean_microglia"] = np.divide(rim_microglia, rim, out=np.zeros_like(rim), where=rim > 0)
        return values


def _equivalent_radius(volume: np.ndarray) -> np.ndarray:
    return (3.0 * volume / (4.0 * math.pi)) ** (1 / 3)
