"""Imaging- and pathology-like readouts of the state, computed collectively on all ranks.

Lesion and rim are measured in white matter (where imaging defines rim lesions);
demyelination and activation in the cortex are reported separately, so that
follicle-driven subpial damage does not masquerade as lesion growth.
"""

from __future__ import annotations

import math

import numpy as np
import ufl

from rimmodel.config.parameters import ObservableParameters
from rimmodel.fem import MPI, fem
from rimmodel.geometry.domain import CORTEX, WHITE_MATTER
from rimmodel.solver.discretisation import Discretisation
from rimmodel.solver.weighted_measure import volume_measure

_INDICATOR_QUADRATURE = 4  # thresholded integrands are discontinuous: sample them finely
RADIAL_INDICATOR_QUADRATURE = 30  # 16 points per cell of a 1D radial mesh: the radius moves smoothly

SCALAR_UNITS = {
    "lesion_size": "mm^d",                  # area (2D) or volume (3D) of white matter with myelin < threshold
    "lesion_equivalent_radius": "mm",
    "rim_size": "mm^d",                     # activated microglia above threshold outside the lesion
    "rim_thickness": "mm",                  # equivalent radius of lesion+rim minus that of the lesion
    "rim_mean_microglia": "1",
    "myelin_loss": "mm^d",                  # integral of (1 - myelin)
    "axon_loss": "mm^d",                    # integral of (1 - axons)
    "microglia_total": "mm^d",
    "cortical_demyelinated_size": "mm^d",
    "cortical_active_size": "mm^d",
    "cortical_axon_loss": "mm^d",
    "tissue_loss": "mm^d",                  # integral of (1 - tissue): parenchyma replaced by fluid
    "parenchymal_volume": "mm^d",           # integral of tissue: what SIENA-like brain volume measures
    "cortical_parenchymal_volume": "mm^d",
    "lesion_tissue_loss": "mm^d",           # integral of (1 - tissue) over the white-matter lesion
    "iron_total": "mm^d",                   # integral of iron held by microglia/macrophages
    "iron_rim_size": "mm^d",                # white matter with iron above threshold (phase-rim proxy)
}


class Observables:
    """Compiled once; ``evaluate()`` is collective and returns the same numbers on every rank."""

    def __init__(self, disc: Discretisation, state: fem.Function, depth: fem.Function,
                 params: ObservableParameters, cortex_thickness: float):
        msh = disc.domain.mesh
        self.comm = msh.comm
        self.dim = disc.domain.volume_dimension  # 3 for a reduced (radial) mesh of a 3D body
        values = disc.fields.split(state)
        m, y, a = values["microglia"], values["myelin"], values["axons"]
        tissue, iron = values["tissue"], values["iron"]
        self.myelin_threshold = fem.Constant(msh, 0.0)
        self.microglia_threshold = fem.Constant(msh, 0.0)
        self.iron_threshold = fem.Constant(msh, 0.0)
        dx = volume_measure(disc.domain, subdomain_data=disc.domain.cell_tags)
        dxq = dx(metadata={"quadrature_degree": _INDICATOR_QUADRATURE if msh.topology.dim > 1
                           else RADIAL_INDICATOR_QUADRATURE})
        lesion = ufl.conditional(ufl.lt(y, self.myelin_threshold), 1.0, 0.0)
        active = ufl.conditional(ufl.gt(m, self.microglia_threshold), 1.0, 0.0)
        rim = active * (1.0 - lesion)
        self.forms = {
            "lesion_size": fem.form(lesion * dxq(WHITE_MATTER)),
            "rim_size": fem.form(rim * dxq(WHITE_MATTER)),
            "rim_microglia": fem.form(rim * m * dxq(WHITE_MATTER)),
            "myelin_loss": fem.form((1 - y) * dx),
            "axon_loss": fem.form((1 - a) * dx),
            "microglia_total": fem.form(m * dx),
            "cortical_demyelinated_size": fem.form(lesion * dxq(CORTEX)),
            "cortical_active_size": fem.form(active * dxq(CORTEX)),
            "cortical_axon_loss": fem.form((1 - a) * dx(CORTEX)),
            "tissue_loss": fem.form((1 - tissue) * dx),
            "parenchymal_volume": fem.form(tissue * dx),
            "cortical_parenchymal_volume": fem.form(tissue * dx(CORTEX)),
            "lesion_tissue_loss": fem.form(lesion * (1 - tissue) * dxq(WHITE_MATTER)),
            "iron_total": fem.form(iron * dx),
            "iron_rim_size": fem.form(ufl.conditional(ufl.gt(iron, self.iron_threshold), 1.0, 0.0)
                                      * dxq(WHITE_MATTER)),
        }
        self.bin_low, self.bin_high = fem.Constant(msh, 0.0), fem.Constant(msh, 0.0)
        in_bin = ufl.conditional(ufl.And(ufl.ge(depth, self.bin_low), ufl.lt(depth, self.bin_high)), 1.0, 0.0)
        self.profile_forms = {
            "bin_size": fem.form(in_bin * dxq(CORTEX)),
            "myelin_loss": fem.form(in_bin * (1 - y) * dxq(CORTEX)),
            "axon_loss": fem.form(in_bin * (1 - a) * dxq(CORTEX)),
        }
        self.configure(params, cortex_thickness)

    def configure(self, params: ObservableParameters, cortex_thickness: float) -> None:
        """Thresholds and depth bins: plain values, no recompilation."""
        self.myelin_threshold.value = params.myelin_threshold
        self.microglia_threshold.value = params.microglia_threshold
        self.iron_threshold.value = params.iron_threshold
        self.bin_edges = np.linspace(0.0, cortex_thickness, params.depth_bins + 1)

    def _integral(self, form) -> float:
        return self.comm.allreduce(fem.assemble_scalar(form), op=MPI.SUM)

    def equivalent_radius(self, size: float) -> float:
        return math.sqrt(size / math.pi) if self.dim == 2 else (3.0 * size / (4.0 * math.pi)) ** (1 / 3)

    def evaluate(self) -> dict[str, float]:
        values = {name: self._integral(form) for name, form in self.forms.items()}
        lesion_radius = self.equivalent_radius(values["lesion_size"])
        outer_radius = self.equivalent_radius(values["lesion_size"] + values["rim_size"])
        rim_microglia = values.pop("rim_microglia")
        values["lesion_equivalent_radius"] = lesion_radius
        values["rim_thickness"] = outer_radius - lesion_radius
        values["rim_mean_microglia"] = rim_microglia / values["rim_size"] if values["rim_size"] > 0 else 0.0
        return values

    def depth_profile(self) -> dict[str, np.ndarray]:
        """Mean myelin and axon loss in each cortical depth bin (0 = pial surface)."""
        profile = {name: np.zeros(self.bin_edges.size - 1) for name in self.profile_forms}
        for i, (low, high) in enumerate(zip(self.bin_edges[:-1], self.bin_edges[1:])):
            self.bin_low.value, self.bin_high.value = low, high if i < self.bin_edges.size - 2 else np.inf
            for name, form in self.profile_forms.items():
                profile[name][i] = self._integral(form)
        size = np.where(profile["bin_size"] > 0, profile["bin_size"], np.nan)
        return {"myelin_loss": profile["myelin_loss"] / size, "axon_loss": profile["axon_loss"] / size}
