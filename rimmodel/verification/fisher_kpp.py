"""The Fisher-KPP limit: chemotaxis off, microglia with logistic growth only.

m_t = D m_xx + r m (1 - m) from a steep initial front travels at the minimal
speed c* = 2 sqrt(D r). The front position is the integral of m (the front
shape converges, so it moves with the front), and the slow Bramson correction
x(t) = c* t - 3/(2 lambda*) ln t + const (lambda* = sqrt(r/D)) is removed
before the fit, so the fitted speed converges to c* under refinement.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rimmodel.config import load_config
from rimmodel.fem import MPI, fem, mesh as dmesh
from rimmodel.geometry.domain import OUTER, PIAL, WHITE_MATTER, Domain
from rimmodel.physics.equations import FIELDS
from rimmodel.verification.problem import build_stepper, march

MICROGLIA = FIELDS.index("microglia")


@dataclass
class FrontSpeed:
    fitted: float      # fitted speed c (mm/yr)
    theory: float      # 2 sqrt(D r)
    cell_size: float
    dt: float
    times: np.ndarray      # yr
    positions: np.ndarray  # front position (mm) at those times

    @property
    def relative_error(self) -> float:
        return abs(self.fitted - self.theory) / self.theory


def fisher_kpp_config(diffusivity: float, growth_rate: float, scheme: str):
    reactions_off = ("activation_rate", "resting_pool", "deactivation_rate", "chemotactic_sensitivity")
    return load_config(None, (
        *(f"microglia.{key}=0.0" for key in reactions_off),
        f"microglia.diffusivity={diffusivity}", f"microglia.basal_growth_rate={growth_rate}",
        "mediator.debris_production=0.0", "follicles.pial_flux=0.0", "follicles.patches=[]",
        "myelin.microglial_damage_rate=0.0", "axons.microglial_damage_rate=0.0", f"time.scheme={scheme}"))


def interval_domain(comm, length: float, cells: int) -> Domain:
    msh = dmesh.create_interval(comm, cells, [0.0, length])
    tdim = msh.topology.dim
    count = msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts
    all_cells = np.arange(count, dtype=np.int32)
    cell_tags = dmesh.meshtags(msh, tdim, all_cells, np.full(count, WHITE_MATTER, dtype=np.int32))
    right = dmesh.locate_entities_boundary(msh, 0, lambda p: np.isclose(p[0], length))
    left = dmesh.locate_entities_boundary(msh, 0, lambda p: np.isclose(p[0], 0.0))
    facets = np.concatenate([left, right]).astype(np.int32)
    values = np.concatenate([np.full(left.size, OUTER), np.full(right.size, PIAL)]).astype(np.int32)
    order = np.argsort(facets)
    return Domain(msh, cell_tags, dmesh.meshtags(msh, 0, facets[order], values[order]), "interval",
                  lambda depth, x: (length - depth,))


def front_speed(comm=MPI.COMM_WORLD, cell_size: float = 0.2, dt: float = 0.1, end: float = 40.0,
                diffusivity: float = 1.0, growth_rate: float = 1.0, scheme: str = "bdf2") -> FrontSpeed:
    theory = 2.0 * math.sqrt(diffusivity * growth_rate)
    length = theory * end + 20.0
    config = fisher_kpp_config(diffusivity, growth_rate, scheme)
    domain = interval_domain(comm, length, int(round(length / cell_size)))
    stepper, tissue = build_stepper(domain, config, scheme)
    stepper.state.interpolate(lambda x: _initial_state(x))
    stepper.initialise()
    mass = fem.form(stepper.state[MICROGLIA] * tissue.dx)
    times, positions = [], []

    def record(t: float) -> None:
        times.append(t)
        positions.append(comm.allreduce(fem.assemble_scalar(mass), op=MPI.SUM))

    march(stepper, dt, int(round(end / dt)), record)
    times, positions = np.array(times), np.array(positions)
    return FrontSpeed(_fit_speed(times, positions, diffusivity, growth_rate), theory, cell_size, dt,
                      times, positions)


def _initial_state(x: np.ndarray) -> np.ndarray:
    """A steep front at x = 5 (decaying faster than exp(-x), so the minimal speed is selected)."""
    values = FIELDS.healthy_state(x.shape[1])
    values[MICROGLIA] = 0.5 * (1.0 - np.tanh((x[0] - 5.0) / 0.5))
    return values


def _fit_speed(times: np.ndarray, positions: np.ndarray, diffusivity: float, growth_rate: float) -> float:
    """Slope of x(t) + 3/(2 lambda*) ln t over the second half of the run."""
    decay = math.sqrt(growth_rate / diffusivity)
    late = times >= times[-1] / 2
    corrected = positions[late] + 1.5 / decay * np.log(times[late])
    return float(np.polyfit(times[late], corrected, 1)[0])
