"""The lesion-rim reaction-diffusion-chemotaxis system, as a UFL weak form.

Every parameter enters as a ``dolfinx.fem.Constant``: changing a value (a new
sample of a study, BTK occupancy at a new time) never recompiles a form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import ufl

from rimmodel.config.parameters import ModelConfig
from rimmodel.fem import fem
from rimmodel.physics.treatment import OccupancyCourse

FIELDS = ("microglia", "mediator", "follicle_factor", "myelin", "axons")
DENSITY_BOUNDS = {"microglia": (0.0, 1.0), "mediator": (0.0, None), "follicle_factor": (0.0, None),
                  "myelin": (0.0, 1.0), "axons": (0.0, 1.0)}

EQUATIONS = """\
  dm/dt = div(D_m grad m - chi m (1 - m) grad c)
          + [r_0 + (1 - E_m b_cns(t)) r_m s / (K_s + s)] (sigma_0 + m)(1 - m) - delta_m m,   s = c + w_f f
  dc/dt = div(D_c grad c) - k_c c + p_c rho m y + p_m m
  df/dt = div(D_f grad f) - k_f f,   D_f grad f . n = (1 - E_B b_per(t)) q_0 phi(x) on the pia
  dy/dt = -(k_ym m + k_yf f) y + k_r (1 - y)(1 - m)
  da/dt = -[(k_am m + k_af f)(1 + gamma (1 - y)) + k_ad (1 - y)] a
  no flux on all other boundaries; rho = 1 in white matter, rho_ctx in cortex"""

# symbol -> (section, key) in ModelConfig
PARAMETER_SYMBOLS = {
    "D_m": ("microglia", "diffusivity"), "chi": ("microglia", "chemotactic_sensitivity"),
    "r_m": ("microglia", "activation_rate"), "r_0": ("microglia", "basal_growth_rate"),
    "K_s": ("microglia", "half_saturation"), "sigma_0": ("microglia", "resting_pool"),
    "delta_m": ("microglia", "deactivation_rate"), "w_f": ("microglia", "follicle_weight"),
    "D_c": ("mediator", "diffusivity"), "k_c": ("mediator", "decay_rate"),
    "p_c": ("mediator", "debris_production"), "p_m": ("mediator", "microglial_production"),
    "D_f": ("follicles", "diffusivity"), "k_f": ("follicles", "decay_rate"),
    "q_0": ("follicles", "pial_flux"),
    "k_ym": ("myelin", "microglial_damage_rate"), "k_yf": ("myelin", "follicle_damage_rate"),
    "k_r": ("myelin", "remyelination_rate"), "rho_ctx": ("myelin", "cortical_content"),
    "k_am": ("axons", "microglial_damage_rate"), "k_af": ("axons", "follicle_damage_rate"),
    "gamma": ("axons", "demyelination_amplification"), "k_ad": ("axons", "demyelinated_degeneration_rate"),
    "E_m": ("btk", "microglial_efficacy"), "E_B": ("btk", "bcell_efficacy"),
}


@dataclass
class Tissue:
    """Mesh-bound data the equations need: which cells are white matter, where follicles sit."""

    white_matter: fem.Function      # DG0 indicator: 1 in white matter, 0 in cortex
    follicle_density: fem.Function  # phi(x) >= 0, used on the pial boundary only
    dx: ufl.Measure                 # transport terms
    dx_reaction: ufl.Measure        # mass and reactions (vertex quadrature when lumped)
    ds_pial: ufl.Measure            # the pial boundary


class Equations(Protocol):
    """What ``BDFStepper`` needs: one UFL component per name in ``fields``."""

    fields: tuple[str, ...]

    def mass(self, du_dt, v, tissue: Tissue): ...

    def spatial_residual(self, u, v, tissue: Tissue): ...

    def set_time(self, t: float) -> None: ...

    def set_parameters(self, config: ModelConfig) -> None: ...


def parameter_constants(mesh, symbols) -> dict[str, fem.Constant]:
    return {symbol: fem.Constant(mesh, 0.0) for symbol in symbols}


def assign_parameters(constants: dict[str, fem.Constant], config: ModelConfig) -> None:
    for symbol, constant in constants.items():
        section, key = PARAMETER_SYMBOLS[symbol]
        constant.value = float(getattr(getattr(config, section), key))


def parameter_values(constants: dict[str, fem.Constant]) -> str:
    return ", ".join(f"{s}={float(c.value):g}" for s, c in constants.items())


def mass_term(du_dt, v, count: int, tissue: Tissue):
    """sum_i du_i/dt v_i over the fields, on ``tissue.dx_reaction`` (vertex quadrature: lumped)."""
    return sum(du_dt[i] * v[i] for i in range(count)) * tissue.dx_reaction


# The microglia and mediator terms, shared with the reduced systems of rimmodel.physics.subsystems.

def microglia_flux(k, m, c):
    """Random motility and volume-filling chemotaxis up the mediator gradient."""
    return k["D_m"] * ufl.grad(m) - k["chi"] * m * (1 - m) * ufl.grad(c)


def microglia_growth(k, m, signal, btk_suppression):
    """Activation by the signal (BTK blocks the share E_m b_cns of it) minus deactivation."""
    activation = k["r_0"] + btk_suppression * k["r_m"] * signal / (k["K_s"] + signal)
    return activation * (k["sigma_0"] + m) * (1 - m) - k["delta_m"] * m


def myelin_content(k, tissue: Tissue):
    """rho: 1 in white matter, rho_ctx in cortex."""
    return tissue.white_matter + k["rho_ctx"] * (1 - tissue.white_matter)


def mediator_reaction(k, m, c, y, content):
    """Decay, production from myelin debris (y: intact myelin) and by microglia directly."""
    return -k["k_c"] * c + k["p_c"] * content * m * y + k["p_m"] * m


class RimEquations:
    """The five-field model: microglia, mediator, follicle factor, myelin, axons."""

    fields = FIELDS

    def __init__(self, mesh, config: ModelConfig, occupancy: OccupancyCourse):
        self.occupancy = occupancy
        self.constants = parameter_constants(mesh, PARAMETER_SYMBOLS)
        self.btk_cns = fem.Constant(mesh, 0.0)
        self.btk_peripheral = fem.Constant(mesh, 0.0)
        self.set_parameters(config)
        self.set_time(0.0)

    def __str__(self) -> str:
        return f"RimEquations (mm, yr):\n{EQUATIONS}\n  with {parameter_values(self.constants)}"

    def set_parameters(self, config: ModelConfig) -> None:
        assign_parameters(self.constants, config)

    def set_time(self, t: float) -> None:
        """Evaluate the occupancy course at t (the stepper passes the implicit time level)."""
        self.btk_cns.value = self.occupancy.cns(t)
        self.btk_peripheral.value = self.occupancy.peripheral(t)

    def mass(self, du_dt, v, tissue: Tissue):
        return mass_term(du_dt, v, len(FIELDS), tissue)

    def spatial_residual(self, u, v, tissue: Tissue):
        """G(u; v) such that the weak problem reads  M(du/dt, v) + G(u; v) = 0."""
        k = self.constants
        m, c, f, y, a = (u[i] for i in range(5))
        vm, vc, vf, vy, va = (v[i] for i in range(5))
        grad, inner = ufl.grad, ufl.inner

        transport = (inner(microglia_flux(k, m, c), grad(vm))
                     + k["D_c"] * inner(grad(c), grad(vc))
                     + k["D_f"] * inner(grad(f), grad(vf))) * tissue.dx

        signal = c + k["w_f"] * f
        inflammation = k["k_am"] * m + k["k_af"] * f
        reactions = (
            microglia_growth(k, m, signal, 1 - k["E_m"] * self.btk_cns) * vm
            + mediator_reaction(k, m, c, y, myelin_content(k, tissue)) * vc
            - k["k_f"] * f * vf
            + (-(k["k_ym"] * m + k["k_yf"] * f) * y + k["k_r"] * (1 - y) * (1 - m)) * vy
            - (inflammation * (1 + k["gamma"] * (1 - y)) + k["k_ad"] * (1 - y)) * a * va
        ) * tissue.dx_reaction

        pial_flux = (1 - k["E_B"] * self.btk_peripheral) * k["q_0"] * tissue.follicle_density
        return transport - reactions - pial_flux * vf * tissue.ds_pial
