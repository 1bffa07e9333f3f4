"""Reduced systems of the model, for verification and benchmarks: only the fields they evolve.

The full model with some mechanisms switched off still assembles and factorises five
fields; these solve the one or two that move, with the same UFL terms as ``RimEquations``
(built by the same functions), so ``BDFStepper`` runs them on a 1- or 2-component space
(``verification.problem.build_stepper(domain, config, equations=...)``).
"""

from __future__ import annotations

import ufl

from rimmodel.config.parameters import ModelConfig
from rimmodel.fem import fem
from rimmodel.physics.equations import (MEDIATOR, MICROGLIA, Tissue, assign_parameters, mass_term,
                                        mediator_reaction, microglia_flux, microglia_growth, myelin_content,
                                        parameter_constants, parameter_values)
from rimmodel.physics.fields import FieldSet
from rimmodel.physics.treatment import OccupancyCourse


class _Reduced:
    """Constants from the config for the symbols the subclass uses; autonomous unless it says otherwise."""

    fields = FieldSet([])
    symbols: tuple[str, ...] = ()
    equations = ""

    def __init__(self, mesh, config: ModelConfig):
        self.constants = parameter_constants(mesh, self.symbols)
        self.set_parameters(config)

    def __str__(self) -> str:
        return f"{type(self).__name__} (mm, yr):\n{self.equations}\n  with {parameter_values(self.constants)}"

    def set_parameters(self, config: ModelConfig) -> None:
        assign_parameters(self.constants, config)

    def set_time(self, t: float) -> None:
        pass

    def mass(self, du_dt, v, tissue: Tissue):
        return mass_term(du_dt, v, len(self.fields), tissue)


class FisherKPP(_Reduced):
    """Microglia alone with logistic growth: the model's Fisher-KPP limit."""

    fields = FieldSet([MICROGLIA])
    symbols = ("D_m", "r_0")
    equations = "  dm/dt = div(D_m grad m) + r_0 m (1 - m),   no flux on the boundary"

    def spatial_residual(self, u, v, tissue: Tissue):
        k, m, vm = self.constants, u[0], v[0]
        return (k["D_m"] * ufl.inner(ufl.grad(m), ufl.grad(vm)) * tissue.dx
                - k["r_0"] * m * (1 - m) * vm * tissue.dx_reaction)


class MicrogliaMediator(_Reduced):
    """Microglia and mediator with chemotaxis, myelin intact (y = 1) and no follicle factor (f = 0).

    The model's microglia and mediator equations as they stand while the lesion has not
    yet demyelinated: what the full model computes with myelin damage and follicles off.
    BTK occupancy of microglia acts as in the model (``occupancy``, e.g. ``pharmacology.occupancy_course``).
    """

    fields = FieldSet([MICROGLIA, MEDIATOR])
    symbols = ("D_m", "chi", "r_0", "r_m", "K_s", "sigma_0", "delta_m", "D_c", "k_c", "p_c", "p_m", "rho_ctx",
               "E_m")
    equations = """\
  dm/dt = div(D_m grad m - chi m (1 - m) grad c)
          + [r_0 + (1 - E_m b_cns(t)) r_m c / (K_s + c)] (sigma_0 + m)(1 - m) - delta_m m
  dc/dt = div(D_c grad c) - k_c c + (p_c rho + p_m) m
  no flux on the boundary; rho = 1 in white matter, rho_ctx in cortex"""

    def __init__(self, mesh, config: ModelConfig, occupancy: OccupancyCourse):
        self.occupancy = occupancy
        self.btk_cns = fem.Constant(mesh, 0.0)
        super().__init__(mesh, config)
        self.set_time(0.0)

    def set_time(self, t: float) -> None:
        self.btk_cns.value = self.occupancy.cns(t)

    def spatial_residual(self, u, v, tissue: Tissue):
        k = self.constants
        (m, c), (vm, vc) = (u[0], u[1]), (v[0], v[1])
        transport = (ufl.inner(microglia_flux(k, m, c), ufl.grad(vm))
                     + k["D_c"] * ufl.inner(ufl.grad(c), ufl.grad(vc))) * tissue.dx
        intact_myelin = 1.0
        reactions = (microglia_growth(k, m, c, 1 - k["E_m"] * self.btk_cns) * vm
                     + mediator_reaction(k, m, c, intact_myelin, myelin_content(k, tissue)) * vc)
        return transport - reactions * tissue.dx_reaction
