"""The lesion-rim reaction-diffusion-chemotaxis system: its fields, declared once, and the UFL weak form.

Each field is a :class:`~rimmodel.physics.fields.Field` with its terms; the weak residual,
the mixed space, the initial state, the PETSc fieldsplit, the printed equations and the run
directory's field record are all derived from ``FIELDS``. A new field is one more declaration
here (its parameters, with symbols, in rimmodel/config/parameters.py).

Every parameter enters as a ``dolfinx.fem.Constant``: changing a value (a new sample of a
study, BTK occupancy at a new time) never recompiles a form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import ufl

from rimmodel.config.parameters import parameter_symbols
from rimmodel.fem import fem
from rimmodel.physics.fields import Field, FieldSet, Layer, Manufactured, Terms
from rimmodel.physics.treatment import OccupancyCourse

if TYPE_CHECKING:
    from rimmodel.config.parameters import ModelConfig


@dataclass
class Tissue:
    """Mesh-bound data the equations need: which cells are white matter, where follicles sit."""

    white_matter: fem.Function      # DG0 indicator: 1 in white matter, 0 in cortex
    follicle_density: fem.Function  # phi(x) >= 0, used on the pial boundary only
    dx: ufl.Measure                 # transport terms
    dx_reaction: ufl.Measure        # mass and reactions (vertex quadrature when lumped)
    ds_pial: ufl.Measure            # the pial boundary


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


def _pulse(t):
    return 1.0 + 0.3 * ufl.sin(2.0 * t)


def _depth_factor(x, dim):
    return ufl.cos(math.pi * x[2]) if dim == 3 else 1.0


MICROGLIA = Field(
    name="microglia", symbol="m", unit="1", bounds=(0.0, 1.0),
    description="activated microglia/macrophages, fraction of the local carrying capacity",
    background=0.0, lesion_core="core_microglia", split="pointwise",
    layer=Layer("activated microglia (fraction of capacity)", "inferno"),
    equation="dm/dt = div(D_m grad m - chi m (1 - m) grad c)\n"
             "          + [r_0 + (1 - E_m b_cns(t)) r_m s / (K_s + s)] (sigma_0 + m)(1 - m) - delta_m m,"
             "   s = c + w_f f",
    transport=lambda q: microglia_flux(q.k, q.microglia, q.mediator),
    reaction=lambda q: microglia_growth(q.k, q.microglia, q.mediator + q.k["w_f"] * q.follicle_factor,
                                        1 - q.k["E_m"] * q.btk_cns),
    manufactured=Manufactured(
        lambda x, t, dim: 0.4 + 0.2 * _pulse(t) * ufl.cos(math.pi * x[0]) * ufl.cos(math.pi * x[1])
        * _depth_factor(x, dim), level=0.4, amplitude=0.2),
)

MEDIATOR = Field(
    name="mediator", symbol="c", unit="1", bounds=(0.0, None),
    description="inflammatory mediators, in units of the half-saturation scale K_s",
    background=0.0, lesion_core=None, split="diffusive",
    layer=Layer("inflammatory mediator (normalised)", "magma"),
    equation="dc/dt = div(D_c grad c) - k_c c + p_c rho m y + p_m m + p_d rho (1 - y)",
    transport=lambda q: q.k["D_c"] * ufl.grad(q.mediator),
    reaction=lambda q: (mediator_reaction(q.k, q.microglia, q.mediator, q.myelin, myelin_content(q.k, q.domain))
                        + q.k["p_d"] * myelin_content(q.k, q.domain) * (1 - q.myelin)),
    manufactured=Manufactured(
        lambda x, t, dim: 1.0 + 0.5 * _pulse(t) * ufl.sin(math.pi * x[0]) * ufl.cos(0.5 * math.pi * x[1])
        * _depth_factor(x, dim), level=1.0, amplitude=0.5),
)

FOLLICLE_FACTOR = Field(
    name="follicle_factor", symbol="f", unit="1", bounds=(0.0, None),
    description="factors released by meningeal B-cell follicles, normalised as the mediator",
    background=0.0, lesion_core=None, split="diffusive",
    layer=Layer("follicle factor (normalised)", "plasma"),
    equation="df/dt = div(D_f grad f) - k_f f,   D_f grad f . n = (1 - E_B b_per(t)) q_0 phi(x) on the pia",
    transport=lambda q: q.k["D_f"] * ufl.grad(q.follicle_factor),
    reaction=lambda q: -q.k["k_f"] * q.follicle_factor,
    pial_source=lambda q: (1 - q.k["E_B"] * q.btk_peripheral) * q.k["q_0"] * q.domain.follicle_density,
    manufactured=Manufactured(
        lambda x, t, dim: 0.5 + 0.3 * _pulse(t) * ufl.cos(0.5 * math.pi * x[0]) * x[1] ** 2,
        level=0.5, amplitude=0.3),
)

def demyelination_rate(q):
    """Rate at which myelin is destroyed, k_ym m + k_yf f times the intact myelin y (1/yr)."""
    return (q.k["k_ym"] * q.microglia + q.k["k_yf"] * q.follicle_factor) * q.myelin


MYELIN = Field(
    name="myelin", symbol="y", unit="1", bounds=(0.0, 1.0), description="intact myelin fraction",
    background=1.0, lesion_core="core_myelin", split="pointwise",
    layer=Layer("intact myelin (fraction)", "cividis", (0.0, 1.0), loss=("myelin_loss", "myelin loss (fraction)")),
    equation="dy/dt = -(k_ym m + k_yf f) y + k_r (1 - y)(1 - m)",
    reaction=lambda q: -demyelination_rate(q) + q.k["k_r"] * (1 - q.myelin) * (1 - q.microglia),
    manufactured=Manufactured(
        lambda x, t, dim: 0.6 + 0.25 * ufl.sin(math.pi * x[0]) * ufl.sin(math.pi * x[1]) * _depth_factor(x, dim)
        / _pulse(t), level=0.6, amplitude=-0.2),
)

AXONS = Field(
    name="axons", symbol="a", unit="1", bounds=(0.0, 1.0), description="intact axon fraction",
    background=1.0, lesion_core="core_axons", split="pointwise",
    layer=Layer("intact axons (fraction)", "viridis", (0.0, 1.0), loss=("axon_loss", "axon loss (fraction)")),
    equation="da/dt = -[(k_am m + k_af f)(1 + gamma (1 - y)) + k_ad (1 - y)] a",
    reaction=lambda q: -((q.k["k_am"] * q.microglia + q.k["k_af"] * q.follicle_factor)
                         * (1 + q.k["gamma"] * (1 - q.myelin)) + q.k["k_ad"] * (1 - q.myelin)) * q.axons,
    manufactured=Manufactured(
        lambda x, t, dim: 0.7 + 0.2 * _pulse(t) * ufl.cos(math.pi * x[0] * x[1]), level=0.7, amplitude=0.1),
)


def remaining_tissue(q):
    """What the tissue relaxes to once debris is cleared: all but the destroyed myelin and axons."""
    return 1 - q.k["phi_y"] * myelin_content(q.k, q.domain) * (1 - q.myelin) - q.k["phi_a"] * (1 - q.axons)


TISSUE = Field(
    name="tissue", symbol="T", unit="1", bounds=(0.0, 1.0),
    description="parenchymal volume fraction (the rest is fluid: resorbed debris, ex-vacuo space)",
    background=1.0, lesion_core="core_tissue", split="pointwise",
    layer=Layer("tissue (parenchymal volume fraction)", "bone", (0.0, 1.0),
                loss=("tissue_loss", "tissue loss (volume fraction)")),
    equation="dT/dt = -k_T [T - 1 + phi_y rho (1 - y) + phi_a (1 - a)]",
    reaction=lambda q: -q.k["k_T"] * (q.tissue - remaining_tissue(q)),
    manufactured=Manufactured(
        lambda x, t, dim: 0.8 + 0.1 * _pulse(t) * ufl.cos(math.pi * x[0]) * ufl.sin(math.pi * x[1])
        * _depth_factor(x, dim), level=0.8, amplitude=0.1),
)

IRON = Field(
    name="iron", symbol="Fe", unit="1", bounds=(0.0, None),
    description="iron held by microglia/macrophages (1: a rim at capacity that took up all iron of its myelin)",
    background=0.0, lesion_core="core_iron", split="pointwise",
    layer=Layer("iron in microglia/macrophages (normalised)", "copper"),
    equation="dFe/dt = iota rho (k_ym m + k_yf f) y m / (K_Fe + m) - lambda_Fe Fe",
    reaction=lambda q: (q.k["iota"] * myelin_content(q.k, q.domain) * demyelination_rate(q)
                        * q.microglia / (q.k["K_Fe"] + q.microglia) - q.k["lambda_Fe"] * q.iron),
    manufactured=Manufactured(
        lambda x, t, dim: 0.3 + 0.15 * _pulse(t) * ufl.sin(math.pi * x[0] * x[1]), level=0.3, amplitude=0.15),
)

FIELDS = FieldSet(
    [MICROGLIA, MEDIATOR, FOLLICLE_FACTOR, MYELIN, AXONS, TISSUE, IRON],
    notes="  no flux on all other boundaries; rho = 1 in white matter, rho_ctx in cortex;\n"
          "  b_cns(t), b_per(t): CNS and peripheral BTK occupancy")

# model quantities the equations define besides fields and parameters (for the legend)
MODEL_SYMBOLS = {
    "s": "inflammatory signal seen by microglia", "rho": "myelin content (1 in white matter, rho_ctx in cortex)",
    "b_cns": "CNS (microglial) BTK occupancy", "b_per": "peripheral (B-cell) BTK occupancy",
    "phi": "follicle density on the pia (sum of Gaussian patches)",
}


class Equations(Protocol):
    """What ``BDFStepper`` needs: one UFL component per declared field."""

    fields: FieldSet

    def mass(self, du_dt, v, tissue: Tissue): ...

    def spatial_residual(self, u, v, tissue: Tissue): ...

    def set_time(self, t: float) -> None: ...

    def set_parameters(self, config: ModelConfig) -> None: ...


def parameter_constants(mesh, symbols) -> dict[str, fem.Constant]:
    return {symbol: fem.Constant(mesh, 0.0) for symbol in symbols}


def assign_parameters(constants: dict[str, fem.Constant], config: ModelConfig) -> None:
    symbols = parameter_symbols(type(config))
    for symbol, constant in constants.items():
        section, key, _ = symbols[symbol]
        constant.value = float(getattr(getattr(config, section), key))


def parameter_values(constants: dict[str, fem.Constant]) -> str:
    return ", ".join(f"{s}={float(c.value):g}" for s, c in constants.items())


def mass_term(du_dt, v, count: int, tissue: Tissue):
    """sum_i du_i/dt v_i over the fields, on ``tissue.dx_reaction`` (vertex quadrature: lumped)."""
    return sum(du_dt[i] * v[i] for i in range(count)) * tissue.dx_reaction


def weak_residual(fields: FieldSet, terms: Terms, v, tissue: Tissue):
    """G(u; v) = sum over fields of (J, grad v) - (R, v) - (pial source, v)_pia."""
    tests = fields.split(v)
    residual = 0
    for f in fields:
        test = tests[f.name]
        if f.transport is not None:
            residual += ufl.inner(f.transport(terms), ufl.grad(test)) * tissue.dx
        if f.reaction is not None:
            residual -= f.reaction(terms) * test * tissue.dx_reaction
        if f.pial_source is not None:
            residual -= f.pial_source(terms) * test * tissue.ds_pial
    return residual


def legend(fields: FieldSet, config: ModelConfig) -> str:
    """Every symbol of the printed equations: fields, parameters (unit, value in ``config``), model quantities."""
    rows = [f"  {f.symbol:<8} {f.description} [{f.unit}]" for f in fields]
    for symbol, (section, key, spec) in parameter_symbols(type(config)).items():
        value = getattr(getattr(config, section), key)
        rows.append(f"  {symbol:<8} {section}.{key} = {value:g} {spec.unit}")
    rows += [f"  {symbol:<8} {meaning}" for symbol, meaning in MODEL_SYMBOLS.items()]
    return "\n".join(rows)


def describe(fields: FieldSet, config: ModelConfig) -> str:
    """The printed model: equations as declared, then the legend of symbols with ``config``'s values."""
    return f"Equations (mm, yr):\n{fields.describe()}\n\nSymbols:\n{legend(fields, config)}"


class RimEquations:
    """The model: microglia, mediator, follicle factor, myelin, axons, tissue, iron (``FIELDS``)."""

    def __init__(self, mesh, config: ModelConfig, occupancy: OccupancyCourse, fields: FieldSet = FIELDS):
        self.fields = fields
        self.occupancy = occupancy
        self.constants = parameter_constants(mesh, parameter_symbols(type(config)))
        self.btk_cns = fem.Constant(mesh, 0.0)
        self.btk_peripheral = fem.Constant(mesh, 0.0)
        self.set_parameters(config)
        self.set_time(0.0)

    def __str__(self) -> str:
        return f"RimEquations (mm, yr):\n{self.fields.describe()}\n  with {parameter_values(self.constants)}"

    def set_parameters(self, config: ModelConfig) -> None:
        assign_parameters(self.constants, config)

    def set_time(self, t: float) -> None:
        """Evaluate the occupancy course at t (the stepper passes the implicit time level)."""
        self.btk_cns.value = self.occupancy.cns(t)
        self.btk_peripheral.value = self.occupancy.peripheral(t)

    def terms(self, u, tissue: Tissue) -> Terms:
        return Terms(k=self.constants, values=self.fields.split(u), domain=tissue,
                     extra={"btk_cns": self.btk_cns, "btk_peripheral": self.btk_peripheral})

    def mass(self, du_dt, v, tissue: Tissue):
        return mass_term(du_dt, v, len(self.fields), tissue)

    def spatial_residual(self, u, v, tissue: Tissue):
        """G(u; v) such that the weak problem reads  M(du/dt, v) + G(u; v) = 0."""
        return weak_residual(self.fields, self.terms(u, tissue), v, tissue)
