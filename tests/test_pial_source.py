"""A case with a known answer: the steady follicle-factor profile under a constant pial flux.

In a slab of depth H with flux q in at the pia (z = 0) and no flux at the bottom,
D f'' = k f has the solution f(z) = (q L / D) cosh((H - z)/L) / sinh(H/L),
L = sqrt(D/k): the exp(-z/L) decay away from the pia, corrected for the finite slab.
"""

import numpy as np

from rimmodel.config import load_config
from rimmodel.fem import MPI
from rimmodel.physics.equations import FIELDS
from rimmodel.simulation import Simulation

FOLLICLE = FIELDS.index("follicle_factor")


def test_steady_follicle_factor_matches_the_analytical_profile(shared_dir):
    flux, diffusivity, decay = 400.0, 1.2e3, 1.2e3
    config = load_config(None, [
        # one very wide patch: uniform flux density 1 along the pia
        "follicles.patches=[{centre=[4.0, 7.0], width=1000.0, density=1.0}]",
        f"follicles.pial_flux={flux}", f"follicles.diffusivity={diffusivity}", f"follicles.decay_rate={decay}",
        "time.end=0.02", "time.dt=0.002", "time.output_interval=0.02", "time.scheme=bdf1",
        "output.fields=false", "output.progress=false"])
    simulation = Simulation(config)
    simulation.run(shared_dir / "slab")

    height = config.geometry.white_matter_depth + config.geometry.cortex_thickness
    length = np.sqrt(diffusivity / decay)
    points = simulation.disc.scalar_space.tabulate_dof_coordinates()
    depth = height - points[:, 1]
    exact = flux * length / diffusivity * np.cosh((height - depth) / length) / np.sinh(height / length)
    owned = simulation.disc.scalar_space.dofmap.index_map.size_local
    computed = simulation.state.x.array[simulation.disc.component_dofs[FOLLICLE]]
    comm = simulation.comm
    error2 = comm.allreduce(np.sum((computed - exact)[:owned] ** 2), op=MPI.SUM)
    norm2 = comm.allreduce(np.sum(exact[:owned] ** 2), op=MPI.SUM)
    surface_error = comm.allreduce(np.max(np.abs(computed - exact)[:owned][depth[:owned] < 1e-9],
                                          initial=0.0), op=MPI.MAX)
    assert np.sqrt(error2 / norm2) < 0.01
    assert surface_error / (flux * length / diffusivity) < 0.01
