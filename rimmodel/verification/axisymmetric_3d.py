"""The axisymmetric (r-z) model of a lesion beneath the pia, against the same lesion in a 3D slab.

The lesion sits under a disc-shaped follicle patch, both on one vertical axis. In 3D this is a
quarter of the problem on the cortical slab [0, W] x [0, H] x [0, W] with the axis on the slab's
edge x = z = 0 (the faces through the axis are symmetry planes); the axisymmetric model is the
cortical section [0, W] x [0, H] read as (r, z), a cylinder of radius W. The far walls differ
(a square against a circle), so W must keep them beyond the lesion's and the follicle factor's
reach. Both run the full model with the same config and time steps.
"""

from __future__ import annotations

import dataclasses

from rimmodel.config import load_config
from rimmodel.config.parameters import ModelConfig
from rimmodel.fem import MPI
from rimmodel.geometry.cortical_section import cortical_slab
from rimmodel.geometry.radial import axisymmetric_lesion
from rimmodel.verification.spherical_3d import ObservableTrajectories, observable_trajectories

QUARTER_COPIES = 4
COMPARED = ("lesion_size", "cortical_demyelinated_size", "cortical_axon_loss", "axon_loss")


def configs(width: float, mesh_size: float, years: float, extra=()) -> tuple[ModelConfig, ModelConfig]:
    """(axisymmetric, 3D quarter slab) configs: one follicle disc above the lesion."""
    common = (f"geometry.width={width}", f"geometry.length={width}", f"geometry.mesh_size={mesh_size}",
              f"time.end={years}", f"lesion.centre_x={width / 2}",  # the section checks; the seeds are on the axis
              *extra)
    height = load_config(None, common).geometry
    top = height.white_matter_depth + height.cortex_thickness
    axisymmetric = load_config(None, ('geometry.kind="axisymmetric_lesion"', *common,
                                      f"follicles.patches=[{{centre=[0.0, {top}], width=0.8}}]"))
    slab = load_config(None, ('geometry.kind="cortical_slab"', 'solver.preset="iterative_3d"', *common,
                              f"follicles.patches=[{{centre=[0.0, {top}, 0.0], width=0.8}}]"))
    return axisymmetric, slab


def run_axisymmetric(config: ModelConfig, comm=MPI.COMM_WORLD) -> ObservableTrajectories:
    return observable_trajectories(axisymmetric_lesion(config.geometry, comm), config, 1, COMPARED)


def run_quarter_slab(config: ModelConfig, comm=MPI.COMM_WORLD) -> ObservableTrajectories:
    slab = cortical_slab(config.geometry, comm)
    top = config.geometry.white_matter_depth + config.geometry.cortex_thickness
    on_edge = dataclasses.replace(slab, name="quarter_slab", lesion_centre_fn=lambda depth, x: (0.0, top - depth, 0.0))
    return observable_trajectories(on_edge, config, QUARTER_COPIES, COMPARED)
