"""Concentric rings: the chemotactic instability of a disc-shaped activated plaque, in 2D.

Radially symmetric perturbations of the homogeneous activated state are sums of J0(k r),
and each grows at the rate s(k^2) of the linear analysis in ``chemotactic_instability``
(the Laplacian has the same eigenvalue -k^2 on J0(k r) as on cos(k x)). A plaque disturbed
symmetrically, as a lesion's own round shape disturbs it, therefore stays homogeneous below
chi_c and breaks into concentric rings of microglia above it, spaced by the fastest-growing
wavelength. These rings sit on intact myelin; whether a demyelinating plaque leaves bands of
spared myelin is the separate case of ``balo_bands`` (debris-driven attractant).

The disc is a quarter disc (the axes are symmetry lines, so no-flux there is exact) meshed by
mapping a structured mesh of the unit square, so no mesh generator is needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import j0, jn_zeros

from rimmodel.config import load_config
from rimmodel.fem import MPI
from rimmodel.fem import mesh as dmesh
from rimmodel.geometry.domain import OUTER, WHITE_MATTER, Domain
from rimmodel.physics.equations import FIELDS
from rimmodel.verification.chemotactic_instability import Subsystem, fastest_wavelength, microglia_amplitude
from rimmodel.verification.problem import build_stepper, march

MICROGLIA, MEDIATOR, MYELIN = (FIELDS.index(name) for name in ("microglia", "mediator", "myelin"))


@dataclass
class RingRun:
    chi: float
    radius: float                 # mm
    cell_size: float              # mm, along the radius
    years: float                  # simulated time
    initial_amplitude: float      # max |m - m*| at t = 0
    final_amplitude: float        # at the end
    wavelength: float             # 2 pi / k at the peak of the radial spectrum of m - m* (mm)
    ring_radii: np.ndarray        # radii (mm) of the microglial rings, the central spot excluded
    radial_position: np.ndarray   # bin centres (mm) of the radial profiles
    microglia_profile: np.ndarray  # angular mean of m per radial bin at the end
    myelin_profile: np.ndarray     # angular mean of myelin per radial bin at the end
    snapshot: tuple[np.ndarray, np.ndarray]  # (node coordinates, m) at the end, gathered on every rank

    @property
    def ring_spacing(self) -> float:
        """Median distance between neighbouring rings (nan with fewer than two rings)."""
        gaps = np.diff(self.ring_radii)
        return float(np.median(gaps)) if gaps.size else math.nan


def quarter_disc_domain(comm, radius: float, cell_size: float) -> Domain:
    """The quarter disc x, y >= 0, x^2 + y^2 <= radius^2, all white matter; its arc is tagged OUTER."""
    cells = max(2, int(round(radius / cell_size)))
    msh = dmesh.create_unit_square(comm, cells, cells, dmesh.CellType.triangle)
    u, v = msh.geometry.x[:, 0].copy(), msh.geometry.x[:, 1].copy()
    # the elliptical square-to-disc map keeps every cell non-degenerate
    msh.geometry.x[:, 0] = radius * u * np.sqrt(1 - v**2 / 2)
    msh.geometry.x[:, 1] = radius * v * np.sqrt(1 - u**2 / 2)
    tdim = msh.topology.dim
    count = msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts
    cell_tags = dmesh.meshtags(msh, tdim, np.arange(count, dtype=np.int32), np.full(count, WHITE_MATTER, np.int32))
    msh.topology.create_connectivity(tdim - 1, tdim)
    arc = dmesh.locate_entities_boundary(msh, tdim - 1, lambda p: np.hypot(p[0], p[1]) > radius * (1 - 1e-9))
    facet_tags = dmesh.meshtags(msh, tdim - 1, arc.astype(np.int32), np.full(arc.size, OUTER, np.int32))
    return Domain(msh, cell_tags, facet_tags, "quarter_disc", lambda depth, x: (0.0, 0.0))


def ring_config(chi: float, demyelination: bool, overrides: tuple[str, ...] = ()):
    """The model's defaults, follicles off; myelin held intact unless ``demyelination``."""
    held = () if demyelination else ("myelin.microglial_damage_rate=0.0", "axons.microglial_damage_rate=0.0")
    return load_config(None, (f"microglia.chemotactic_sensitivity={chi}", "follicles.pial_flux=0.0",
                              "myelin.follicle_damage_rate=0.0", *held, *overrides))


def ring_run(comm, chi: float, radius: float = 12.0, cell_size: float = 0.05, dt: float = 0.02,
             end: float = 2.5, seed: int = 1, perturbation: float = 1e-6, demyelination: bool = False,
             overrides: tuple[str, ...] = ()) -> RingRun:
    """From the activated plaque (m*, c*, intact myelin) plus a seeded radial perturbation."""
    config = ring_config(chi, demyelination, overrides)
    system = Subsystem.from_config(config)
    m_star, c_star = system.steady_state()
    stepper, _ = build_stepper(quarter_disc_domain(comm, radius, cell_size), config)
    noise = _bessel_noise(radius, seed)
    stepper.state.interpolate(lambda x: _perturbed_plaque(x, m_star, c_star, perturbation * noise(x)))
    stepper.initialise()
    initial = microglia_amplitude(comm, stepper.state, m_star)
    march(stepper, dt, int(round(end / dt)))
    position, profiles = radial_profiles(comm, stepper.state, radius, cell_size)
    deviation = profiles[MICROGLIA] - m_star
    # J0 decays like r^(-1/2): weight by sqrt(r) so that outer rings count as much as inner ones
    rings = ring_radii(position, deviation * np.sqrt(position), 0.5 * fastest_wavelength(system, chi))
    return RingRun(chi, radius, cell_size, end, initial, microglia_amplitude(comm, stepper.state, m_star),
                   dominant_wavelength(position, deviation, radius), rings, position,
                   profiles[MICROGLIA], profiles[MYELIN], _gather_microglia(comm, stepper.state))


def _bessel_noise(radius: float, seed: int, modes: int = 80):
    """The disc's no-flux radial modes J0(j'_n r / R), equal amplitudes and seeded random signs:
    a flat spectrum, so the mode that wins is the one that grows fastest."""
    rng = np.random.default_rng(seed)
    amplitudes = rng.choice((-1.0, 1.0), size=modes) / math.sqrt(modes)
    wavenumbers = jn_zeros(1, modes) / radius  # J0' = -J1 vanishes at r = R
    return lambda x: j0(np.outer(np.hypot(x[0], x[1]), wavenumbers)) @ amplitudes


def _perturbed_plaque(x: np.ndarray, m_star: float, c_star: float, disturbance: np.ndarray) -> np.ndarray:
    values = FIELDS.healthy_state(x.shape[1])
    values[MICROGLIA] = m_star + disturbance
    values[MEDIATOR] = c_star
    return values


def _gather_microglia(comm, state) -> tuple[np.ndarray, np.ndarray]:
    owned = state.function_space.dofmap.index_map.size_local
    points = state.function_space.tabulate_dof_coordinates()[:owned, :2]
    microglia = state.x.array[MICROGLIA: owned * len(FIELDS): len(FIELDS)]
    return np.concatenate(comm.allgather(points)), np.concatenate(comm.allgather(microglia))


def radial_profiles(comm, state, radius: float, bin_width: float) -> tuple[np.ndarray, np.ndarray]:
    """Angular means of every field in radial bins, summed over ranks (owned nodes only)."""
    bins = max(1, int(round(radius / bin_width)))
    owned = state.function_space.dofmap.index_map.size_local
    points = state.function_space.tabulate_dof_coordinates()[:owned]
    index = np.minimum((np.hypot(points[:, 0], points[:, 1]) / radius * bins).astype(int), bins - 1)
    values = state.x.array[: owned * len(FIELDS)].reshape(owned, len(FIELDS))
    sums = np.zeros((len(FIELDS), bins))
    for field in range(len(FIELDS)):
        sums[field] = np.bincount(index, weights=values[:, field], minlength=bins)
    counts = comm.allreduce(np.bincount(index, minlength=bins).astype(float), op=MPI.SUM)
    sums = comm.allreduce(sums, op=MPI.SUM)
    centres = (np.arange(bins) + 0.5) * radius / bins
    return centres, sums / np.maximum(counts, 1.0)


def dominant_wavelength(position: np.ndarray, deviation: np.ndarray, radius: float) -> float:
    """2 pi / k_n for the no-flux radial mode J0(k_n r) carrying most of the profile (Hankel projection)."""
    wavenumbers = jn_zeros(1, position.size // 2) / radius
    basis = j0(np.outer(wavenumbers, position))
    weight = position * np.gradient(position)  # r dr
    coefficients = (basis * deviation * weight).sum(axis=1) / (basis**2 * weight).sum(axis=1)
    return 2 * math.pi / wavenumbers[int(np.argmax(np.abs(coefficients)))]


def ring_radii(position: np.ndarray, deviation: np.ndarray, minimum_radius: float) -> np.ndarray:
    """Radii of the rings: local maxima of the profile standing out by a quarter of its range,
    beyond ``minimum_radius`` (the central spot is not a ring)."""
    prominence = 0.25 * (deviation.max() - deviation.min())
    inner = slice(1, -1)
    is_peak = (deviation[inner] > deviation[:-2]) & (deviation[inner] >= deviation[2:])
    candidates = np.flatnonzero(is_peak) + 1
    rings = [i for i in candidates
             if position[i] > minimum_radius and deviation[i] - _neighbourhood_floor(deviation, i) > prominence]
    return position[rings]


def _neighbourhood_floor(profile: np.ndarray, peak: int) -> float:
    """The higher of the two minima separating ``peak`` from the nearest higher-or-equal values."""
    left = profile[:peak][::-1]
    right = profile[peak + 1:]
    floors = []
    for side in (left, right):
        higher = np.flatnonzero(side >= profile[peak])
        stretch = side[: higher[0]] if higher.size else side
        floors.append(stretch.min() if stretch.size else profile[peak])
    return max(floors)
