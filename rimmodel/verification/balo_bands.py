"""Baló-type concentric bands: does the debris-driven attractant leave bands of spared myelin?

The case runs the model in its Khonsari–Calvez limit (Khonsari & Calvez 2007, PLoS ONE 2:e150):
activated microglia grow logistically on their own (r_0 > 0, signal-driven activation r_m = 0,
no resting pool sigma_0), the attractant is released only by destroyed myelin (p_d > 0, p_c = 0),
follicles are off. The equations reduce to

    m_t = D_m m_rr - chi (m(1-m) c_r)_r + g(m),   g = r_0 m (1 - m) - delta_m m
    c_t = D_c c_rr - k_c c + p_d (1 - y)
    y_t = -k_ym m y

(in a ball: the radial operators carry r^2). Healthy tissue (m = 0, y = 1) is invaded by a
Fisher–KPP front of microglia that leaves the plaque m_bar = 1 - delta_m / r_0.

Linear stability of the plaque on intact myelin. Just behind the front, microglia are at m_bar
and the myelin has not yet been destroyed (y = 1, c = 0). Freezing this state (y decays on the
slow scale 1/(k_ym m_bar)) and perturbing by exp(i k r + s t), q = k^2, with the mediator
quasi-steady (it decays in hours, the rest in years):

    s dm = (g_m - D_m q) dm + chi phi q dc,   phi = m_bar (1 - m_bar),  g_m = -r_0 m_bar
    0    = -(k_c + D_c q) dc - p_d dy
    s dy = -k_ym dm - k_ym m_bar dy

More microglia destroy more myelin, destroyed myelin releases attractant, attractant pulls in
more microglia: a positive loop. A real eigenvalue crosses zero where the determinant changes
sign, i.e. where

    chi phi q p_d / (k_c + D_c q) = m_bar (D_m q - g_m).

Minimising chi over q (at q* = sqrt(-g_m k_c / (D_m D_c))) gives the critical sensitivity

    chi_c = [sqrt(-g_m D_c) + sqrt(D_m k_c)]^2 / ((1 - m_bar) p_d),

with the fastest-growing band spacing near 2 pi / sqrt(q*). ``growth_rate_at`` evaluates the full
3x3 system (mediator dynamic) as a check of the closed form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.signal import find_peaks

from rimmodel.config import load_config
from rimmodel.geometry.radial import spherical_lesion
from rimmodel.physics.equations import FIELDS
from rimmodel.verification.problem import build_stepper, march

MICROGLIA, MYELIN = FIELDS.index("microglia"), FIELDS.index("myelin")

# The Khonsari–Calvez limit of the model. Rates not listed keep the model's defaults
# (D_m = 0.05 mm^2/yr, D_c = 1200 mm^2/yr, k_c = 5000 /yr, delta_m = 0.5 /yr, k_ym = 1.5 /yr).
# r_0 = 2 /yr (assumed) gives m_bar = 0.75 and a front speed 2 sqrt(D_m (r_0 - delta_m)) ~ 0.55 mm/yr;
# p_d = 5000 /yr (assumed) makes c = p_d / k_c = 1 in a fully demyelinated plaque.
KHONSARI_CALVEZ = ("follicles.pial_flux=0.0", "follicles.patches=[]", "myelin.follicle_damage_rate=0.0",
                   "microglia.activation_rate=0.0", "microglia.resting_pool=0.0",
                   "microglia.basal_growth_rate=2.0", "mediator.debris_production=0.0",
                   "mediator.microglial_production=0.0", "mediator.debris_release=5000.0",
                   # the verification's own rates, not the calibrated defaults (which move with each fit)
                   "microglia.deactivation_rate=0.5", "myelin.microglial_damage_rate=1.5")
SPARED_PROMINENCE = 0.2    # a band of spared myelin: a maximum of y standing 0.2 above its surroundings
DEMYELINATED_BELOW = 0.5   # the front: the outermost radius where y < 0.5


@dataclass(frozen=True)
class DebrisAttractantSystem:
    """The rates of the Khonsari–Calvez limit, in the units of the model (mm, yr)."""

    microglia_diffusivity: float
    mediator_diffusivity: float
    mediator_decay: float
    logistic_rate: float       # r_0
    deactivation_rate: float
    stripping_rate: float
    debris_release: float

    @classmethod
    def from_config(cls, config) -> "DebrisAttractantSystem":
        return cls(config.microglia.diffusivity, config.mediator.diffusivity, config.mediator.decay_rate,
                   config.microglia.basal_growth_rate, config.microglia.deactivation_rate,
                   config.myelin.microglial_damage_rate, config.mediator.debris_release)

    @property
    def plaque_density(self) -> float:
        """m_bar: the logistic equilibrium behind the front."""
        return 1.0 - self.deactivation_rate / self.logistic_rate

    def critical_sensitivity(self) -> float:
        m_bar = self.plaque_density
        decline = self.logistic_rate * m_bar  # -g_m
        root = math.sqrt(decline * self.mediator_diffusivity) + math.sqrt(
            self.microglia_diffusivity * self.mediator_decay)
        return root**2 / ((1 - m_bar) * self.debris_release)

    def band_spacing(self) -> float:
        """2 pi / k at the wavenumber that first destabilises (mm)."""
        q = math.sqrt(self.logistic_rate * self.plaque_density * self.mediator_decay
                      / (self.microglia_diffusivity * self.mediator_diffusivity))
        return 2 * math.pi / math.sqrt(q)

    def growth_rate_at(self, chi: float, wavenumber: np.ndarray) -> np.ndarray:
        """Largest real part of the eigenvalues of the frozen 3x3 system (m, c, y), mediator dynamic."""
        m_bar = self.plaque_density
        rates = []
        for q in np.asarray(wavenumber, dtype=float) ** 2:
            jacobian = np.array([
                [-self.logistic_rate * m_bar - self.microglia_diffusivity * q, chi * m_bar * (1 - m_bar) * q, 0.0],
                [0.0, -self.mediator_decay - self.mediator_diffusivity * q, -self.debris_release],
                [-self.stripping_rate, 0.0, -self.stripping_rate * m_bar]])
            rates.append(np.linalg.eigvals(jacobian).real.max())
        return np.array(rates)


def balo_config(chi: float, radius: float, cell_size: float, overrides: tuple[str, ...] = ()):
    return load_config(None, (*KHONSARI_CALVEZ, f"microglia.chemotactic_sensitivity={chi}",
                              f"geometry.outer_radius={radius}", f"geometry.mesh_size={cell_size}", *overrides))


@dataclass
class BandRun:
    chi: float
    times: np.ndarray          # sample times (yr)
    front_radius: np.ndarray   # outermost radius with y < 0.5 at each sample (mm)
    band_count: np.ndarray     # bands of spared myelin behind the front at each sample
    radius: np.ndarray         # node radii (mm), sorted
    myelin: np.ndarray         # (samples, nodes): y along the radius at each sample

    @property
    def most_bands(self) -> int:
        return int(self.band_count.max())

    @property
    def most_bands_sample(self) -> int:
        return int(np.argmax(self.band_count))

    @property
    def final_bands(self) -> int:
        return int(self.band_count[-1])

    @property
    def banded_years(self) -> float:
        """How long at least one band of spared myelin lay behind the front (yr)."""
        return float(np.count_nonzero(self.band_count) * (self.times[1] - self.times[0]))


def spared_bands(radius: np.ndarray, myelin: np.ndarray, front: float) -> np.ndarray:
    """Radii of the bands of spared myelin behind the front: interior maxima of y at r < front
    standing ``SPARED_PROMINENCE`` above the demyelinated myelin on both sides."""
    behind = radius < front
    # interior maxima only: the rise into intact tissue at the front is not a band
    peaks, _ = find_peaks(myelin[behind], prominence=SPARED_PROMINENCE)
    return radius[behind][peaks]


def band_run(comm, chi: float, radius: float = 6.0, cell_size: float = 0.02, dt: float = 0.02,
             end: float = 16.0, sample_every: float = 0.5, overrides: tuple[str, ...] = ()) -> BandRun:
    """A seeded plaque (m = m_bar for r < 0.5 mm) at the centre of a ball of intact white matter."""
    config = balo_config(chi, radius, cell_size, overrides)
    m_bar = DebrisAttractantSystem.from_config(config).plaque_density
    stepper, _ = build_stepper(spherical_lesion(config.geometry, comm), config)
    stepper.state.interpolate(lambda x: _seeded_plaque(x, m_bar))
    stepper.initialise()
    every = int(round(sample_every / dt))
    samples: list[tuple[float, np.ndarray, np.ndarray]] = []

    def sample(t: float) -> None:
        if int(round(t / dt)) % every == 0:
            samples.append((t, *_gather_myelin(comm, stepper.state)))

    march(stepper, dt, int(round(end / dt)), sample)
    times = np.array([t for t, _, _ in samples])
    r = samples[0][1]
    myelin = np.array([y for _, _, y in samples])
    fronts = np.array([_front(r, y) for y in myelin])
    counts = np.array([spared_bands(r, y, front).size for y, front in zip(myelin, fronts)])
    return BandRun(chi, times, fronts, counts, r, myelin)


def _seeded_plaque(x: np.ndarray, m_bar: float) -> np.ndarray:
    values = FIELDS.healthy_state(x.shape[1])
    values[MICROGLIA] = m_bar * (x[0] < 0.5)
    return values


def _front(radius: np.ndarray, myelin: np.ndarray) -> float:
    lost = np.flatnonzero(myelin < DEMYELINATED_BELOW)
    return float(radius[lost[-1]]) if lost.size else 0.0


def _gather_myelin(comm, state) -> tuple[np.ndarray, np.ndarray]:
    """Radii and myelin of all nodes on every rank, sorted by radius (a 1D profile is small)."""
    owned = state.function_space.dofmap.index_map.size_local
    r = state.function_space.tabulate_dof_coordinates()[:owned, 0]
    y = state.x.array[MYELIN: owned * len(FIELDS): len(FIELDS)]
    r, y = np.concatenate(comm.allgather(r)), np.concatenate(comm.allgather(y))
    order = np.argsort(r)
    return r[order], y[order]
