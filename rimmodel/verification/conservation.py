"""With every reaction off, the chemotaxis-diffusion operator must conserve microglia exactly.

The chemotactic flux is discretised in divergence form, so testing with v = 1
gives zero: the total changes only by the nonlinear-solver residual.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import ufl

from rimmodel.config import load_config
from rimmodel.fem import MPI, fem
from rimmodel.physics.equations import FIELDS
from rimmodel.verification.manufactured import unit_domain
from rimmodel.verification.problem import build_stepper, march

MICROGLIA, MEDIATOR = FIELDS.index("microglia"), FIELDS.index("mediator")
NO_REACTIONS = (
    "microglia.activation_rate=0.0", "microglia.resting_pool=0.0", "microglia.deactivation_rate=0.0",
    "microglia.diffusivity=0.02", "microglia.chemotactic_sensitivity=0.05",
    "mediator.diffusivity=0.05", "mediator.decay_rate=1e-6", "mediator.debris_production=0.0",
    "follicles.pial_flux=0.0", "myelin.microglial_damage_rate=0.0", "myelin.follicle_damage_rate=0.0",
    "axons.microglial_damage_rate=0.0", "axons.follicle_damage_rate=0.0",
    "axons.demyelinated_degeneration_rate=0.0",
)


@dataclass
class ConservationResult:
    initial_total: float
    relative_drift: float   # max over steps of |total(t) - total(0)| / total(0)
    minimum: float          # smallest microglia value seen at any step
    centroid_shift: float   # movement of the microglia centroid toward the mediator peak (mm)


def chemotaxis_conservation(comm=MPI.COMM_WORLD, cells: int = 32, dt: float = 0.05, steps: int = 40):
    config = load_config(None, NO_REACTIONS)
    stepper, tissue = build_stepper(unit_domain(comm, 2, cells), config)
    space = stepper.state.function_space
    stepper.state.interpolate(_bump_and_gradient)
    stepper.initialise()
    total = fem.form(stepper.state[MICROGLIA] * tissue.dx)
    moment = fem.form(ufl.SpatialCoordinate(space.mesh)[0] * stepper.state[MICROGLIA] * tissue.dx)
    owned = space.dofmap.index_map.size_local * space.dofmap.index_map_bs

    def measure() -> tuple[float, float]:
        local_min = stepper.state.x.array[:owned][MICROGLIA::len(FIELDS)].min()
        return (comm.allreduce(fem.assemble_scalar(total), op=MPI.SUM), comm.allreduce(local_min, op=MPI.MIN))

    def centroid() -> float:
        return comm.allreduce(fem.assemble_scalar(moment), op=MPI.SUM) / measure()[0]

    initial, minimum = measure()
    start = centroid()
    drift = 0.0

    def track(t: float) -> None:
        nonlocal drift, minimum
        value, low = measure()
        drift, minimum = max(drift, abs(value - initial) / initial), min(minimum, low)

    march(stepper, dt, steps, track)
    return ConservationResult(initial, drift, float(minimum), centroid() - start)


def _bump_and_gradient(x: np.ndarray) -> np.ndarray:
    """Microglia in a bump, mediator peaked elsewhere: chemotaxis moves the cells across."""
    values = FIELDS.healthy_state(x.shape[1])
    values[MICROGLIA] = 0.6 * np.exp(-((x[0] - 0.3) ** 2 + (x[1] - 0.5) ** 2) / 0.02)
    values[MEDIATOR] = 2.0 * np.exp(-((x[0] - 0.7) ** 2 + (x[1] - 0.5) ** 2) / 0.05)
    return values
