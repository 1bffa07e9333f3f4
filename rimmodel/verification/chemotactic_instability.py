"""Linear stability of the activated homogeneous state of the microglia-mediator subsystem.

With myelin intact and held fixed (y = 1, no follicle factor), the subsystem

    m_t = D_m m_xx - chi (m(1-m) c_x)_x + g(m, c),   g = r_m h(c)(sigma_0 + m)(1 - m) - delta_m m
    c_t = D_c c_xx - k_c c + P m,                     P = p_c rho + p_m,  h(c) = c/(K_s + c)

has a homogeneous activated state (m*, c* = P m*/k_c). A perturbation exp(i k x + s t)
grows when the 2x2 matrix J(q), q = k^2,

    J(q) = [[g_m - D_m q,  g_c + chi phi q],      phi = m*(1 - m*)
            [P,           -k_c - D_c q  ]]

has an eigenvalue with positive real part. With g_m < 0 and the state stable at
q = 0, instability comes from det J(q) < 0, and det J is a quadratic in q:

    det J(q) = D_m D_c q^2 + (D_m k_c - g_m D_c - P chi phi) q + det J(0).

Its minimum drops below zero first when chi exceeds

    chi_c = [D_m k_c - g_m D_c + 2 sqrt(D_m D_c det J(0))] / (P phi),

the critical chemotactic sensitivity: below it a uniform plaque, above it
microglial aggregation into bands (rings, in a radial lesion).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from rimmodel.config import load_config
from rimmodel.fem import MPI
from rimmodel.physics.equations import FIELDS
from rimmodel.verification.fisher_kpp import interval_domain
from rimmodel.verification.problem import build_stepper, march


@dataclass(frozen=True)
class Subsystem:
    """Microglia-mediator rates, in the units of the model (mm, yr)."""

    microglia_diffusivity: float
    mediator_diffusivity: float
    activation_rate: float
    half_saturation: float
    resting_pool: float
    deactivation_rate: float
    mediator_decay: float
    mediator_production: float   # P = p_c rho + p_m with myelin intact

    @classmethod
    def from_config(cls, config, myelin_content: float = 1.0) -> "Subsystem":
        production = config.mediator.debris_production * myelin_content + config.mediator.microglial_production
        return cls(config.microglia.diffusivity, config.mediator.diffusivity, config.microglia.activation_rate,
                   config.microglia.half_saturation, config.microglia.resting_pool,
                   config.microglia.deactivation_rate, config.mediator.decay_rate, production)

    def growth(self, m: float, c: float) -> float:
        h = c / (self.half_saturation + c)
        return self.activation_rate * h * (self.resting_pool + m) * (1 - m) - self.deactivation_rate * m

    def steady_state(self) -> tuple[float, float]:
        """The activated homogeneous state: the largest root of g(m, P m / k_c) in (0, 1)."""
        along = lambda m: self.growth(m, self.mediator_production * m / self.mediator_decay)  # noqa: E731
        grid = np.linspace(1e-6, 1 - 1e-9, 4001)
        values = np.array([along(m) for m in grid])
        crossings = np.flatnonzero(np.sign(values[:-1]) * np.sign(values[1:]) < 0)
        if crossings.size == 0:
            raise ValueError("no activated homogeneous state for these rates")
        i = crossings[-1]
        m = brentq(along, grid[i], grid[i + 1], xtol=1e-14)
        return m, self.mediator_production * m / self.mediator_decay

    def jacobian_terms(self) -> dict[str, float]:
        m, c = self.steady_state()
        eps = 1e-7
        g_m = (self.growth(m + eps, c) - self.growth(m - eps, c)) / (2 * eps)
        g_c = (self.growth(m, c + eps) - self.growth(m, c - eps)) / (2 * eps)
        return {"m": m, "c": c, "g_m": g_m, "g_c": g_c, "phi": m * (1 - m)}


def critical_sensitivity(system: Subsystem) -> float:
    """chi_c: the smallest chemotactic sensitivity for which a finite wavelength grows."""
    j = system.jacobian_terms()
    det0 = -j["g_m"] * system.mediator_decay - system.mediator_production * j["g_c"]
    if det0 <= 0 or j["g_m"] >= 0:
        raise ValueError("the homogeneous state is already unstable without chemotaxis")
    d_m, d_c = system.microglia_diffusivity, system.mediator_diffusivity
    numerator = d_m * system.mediator_decay - j["g_m"] * d_c + 2 * math.sqrt(d_m * d_c * det0)
    return numerator / (system.mediator_production * j["phi"])


def growth_rate(system: Subsystem, chi: float, wavenumber: np.ndarray) -> np.ndarray:
    """Largest real part of the eigenvalues of J(k^2)."""
    j = system.jacobian_terms()
    q = np.asarray(wavenumber) ** 2
    a = j["g_m"] - system.microglia_diffusivity * q
    b = j["g_c"] + chi * j["phi"] * q
    d = -system.mediator_decay - system.mediator_diffusivity * q
    trace, det = a + d, a * d - b * system.mediator_production
    return np.real((trace + np.sqrt((trace**2 - 4 * det).astype(complex))) / 2)


def fastest_wavelength(system: Subsystem, chi: float) -> float:
    """Wavelength (mm) of the fastest-growing mode."""
    j = system.jacobian_terms()
    q_scale = max(system.mediator_decay / system.mediator_diffusivity, -j["g_m"] / system.microglia_diffusivity)
    wavenumbers = np.linspace(1e-4, 10 * math.sqrt(q_scale), 200001)
    return 2 * math.pi / wavenumbers[np.argmax(growth_rate(system, chi, wavenumbers))]


@dataclass
class PatternRun:
    chi: float
    initial_amplitude: float   # max |m - m*| at t = 0
    final_amplitude: float
    wavelength: float          # dominant wavelength of m - m* at the end (mm)


def pattern_run(comm, chi: float, length: float = 20.0, cell_size: float = 0.02, dt: float = 0.02,
                end: float = 2.0, seed: int = 1) -> PatternRun:
    """1D run from the perturbed activated state, myelin held intact (no demyelination)."""
    config = load_config(None, (f"microglia.chemotactic_sensitivity={chi}", "follicles.pial_flux=0.0",
                                "myelin.microglial_damage_rate=0.0", "myelin.follicle_damage_rate=0.0"))
    system = Subsystem.from_config(config)
    m_star, c_star = system.steady_state()
    stepper, _ = build_stepper(interval_domain(comm, length, int(round(length / cell_size))), config)
    noise = _cosine_noise(length, seed)
    stepper.state.interpolate(lambda x: _perturbed_state(x, m_star, c_star, noise))
    stepper.initialise()
    initial = microglia_amplitude(comm, stepper.state, m_star)
    march(stepper, dt, int(round(end / dt)))
    scalar_space, _ = stepper.state.function_space.sub(0).collapse()
    x, m = _gather_profile(comm, scalar_space, stepper.state)
    return PatternRun(chi, initial, microglia_amplitude(comm, stepper.state, m_star), _dominant_wavelength(x, m - m_star))


def _cosine_noise(length: float, seed: int, modes: int = 200):
    """A seeded random sum of Neumann modes: the same perturbation on any mesh and rank count."""
    rng = np.random.default_rng(seed)
    amplitudes = rng.normal(size=modes) / math.sqrt(modes)
    wavenumbers = math.pi * np.arange(1, modes + 1) / length
    return lambda x: np.cos(np.outer(x, wavenumbers)) @ amplitudes


def _perturbed_state(x: np.ndarray, m_star: float, c_star: float, noise) -> np.ndarray:
    values = FIELDS.healthy_state(x.shape[1])
    values[FIELDS.index("microglia")] = m_star + 1e-3 * noise(x[0])
    values[FIELDS.index("mediator")] = c_star
    return values


def microglia_amplitude(comm, state, m_star: float) -> float:
    """max |m - m*| over the mesh (owned nodes, all ranks)."""
    owned = state.function_space.dofmap.index_map.size_local * len(FIELDS)
    microglia = state.x.array[FIELDS.index("microglia"):owned:len(FIELDS)]
    return comm.allreduce(float(np.max(np.abs(microglia - m_star))), op=MPI.MAX)


def _gather_profile(comm, scalar_space, state) -> tuple[np.ndarray, np.ndarray]:
    """All nodes on every rank, sorted by x (a 1D profile is small)."""
    owned = scalar_space.dofmap.index_map.size_local
    x = scalar_space.tabulate_dof_coordinates()[:owned, 0]
    m = state.x.array[FIELDS.index("microglia"): owned * len(FIELDS): len(FIELDS)]
    x, m = np.concatenate(comm.allgather(x)), np.concatenate(comm.allgather(m))
    order = np.argsort(x)
    return x[order], m[order]


def _dominant_wavelength(x: np.ndarray, deviation: np.ndarray) -> float:
    """Peak of the cosine (Neumann) spectrum of a uniformly sampled profile."""
    length = x[-1] - x[0]
    modes = np.arange(1, x.size // 2)
    spectrum = [abs(np.trapezoid(deviation * np.cos(math.pi * n * (x - x[0]) / length), x)) for n in modes]
    return 2 * length / modes[int(np.argmax(spectrum))]
