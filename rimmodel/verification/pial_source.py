"""The steady follicle-factor profile under a constant pial flux, against the analytical one.

In a slab of depth H with flux q in at the pia (depth z = 0) and no flux at the
bottom, D f'' = k f gives f(z) = (q L / D) cosh((H - z)/L) / sinh(H/L),
L = sqrt(D/k): the exp(-z/L) decay away from the pia, corrected for the finite slab.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rimmodel.config import load_config
from rimmodel.fem import MPI
from rimmodel.physics.equations import FIELDS
from rimmodel.simulation import Simulation

FOLLICLE = FIELDS.index("follicle_factor")


@dataclass
class PialProfile:
    gradient_length: float     # L = sqrt(D/k), mm
    relative_l2_error: float   # over all nodes
    surface_error: float       # max error at the pia, relative to the surface value q L / D


def steady_pial_profile(out_dir: Path, flux: float = 400.0, diffusivity: float = 1.2e3,
                        decay: float = 1.2e3, overrides: tuple[str, ...] = ()) -> PialProfile:
    config = load_config(None, (
        "follicles.patches=[{centre=[4.0, 7.0], width=1000.0, density=1.0}]",  # uniform along the pia
        f"follicles.pial_flux={flux}", f"follicles.diffusivity={diffusivity}", f"follicles.decay_rate={decay}",
        "time.end=0.02", "time.dt=0.002", "time.output_interval=0.02", "time.scheme=bdf1",
        "output.fields=false", "output.progress=false", *overrides))
    simulation = Simulation(config)
    simulation.run(out_dir)  # 0.02 yr = 24 decay times: steady to machine precision
    height = config.geometry.white_matter_depth + config.geometry.cortex_thickness
    length = math.sqrt(diffusivity / decay)
    surface = flux * length / diffusivity
    space = simulation.disc.scalar_space
    owned = space.dofmap.index_map.size_local
    depth = height - space.tabulate_dof_coordinates()[:owned, 1]
    exact = surface * np.cosh((height - depth) / length) / np.sinh(height / length)
    error = simulation.state.x.array[simulation.disc.component_dofs[FOLLICLE]][:owned] - exact
    comm = simulation.comm
    l2 = math.sqrt(comm.allreduce(np.sum(error**2), op=MPI.SUM) / comm.allreduce(np.sum(exact**2), op=MPI.SUM))
    at_pia = comm.allreduce(np.max(np.abs(error[depth < 1e-9]), initial=0.0), op=MPI.MAX)
    return PialProfile(length, l2, at_pia / surface)
