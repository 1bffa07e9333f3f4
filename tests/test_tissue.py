"""Tissue conservation: tissue is lost only where myelin or axons are destroyed, and, once resorbed,
exactly as much as the declared volume fractions say (dT/dt = -k_T [T - 1 + phi_y rho (1-y) + phi_a (1-a)])."""

import math

import numpy as np
import pytest

from rimmodel.config import load_config
from rimmodel.simulation import Simulation

# No inflammation and no follicles: the seeded core's demyelination and axon loss are the only
# damage, and nothing adds to it (no axon degeneration), so myelin and axons stay as seeded.
STILL = ("output.progress=false", "output.fields=false", "output.checkpoints=false", "geometry.mesh_size=0.3",
         "follicles.patches=[]", "lesion.core_microglia=0.0", "axons.demyelinated_degeneration_rate=0.0",
         "lesion.depth_below_pia=5.0", "tissue.resorption_rate=1.0", "time.end=25.0", "time.output_interval=1.0")


def _component(simulation, name):
    return simulation.state.x.array[simulation.disc.component_dofs[simulation.disc.fields.index(name)]]


def test_tissue_is_lost_only_where_damage_is_and_as_much_as_the_fractions_predict(shared_dir):
    config = load_config(None, STILL)
    simulation = Simulation(config)
    record = simulation.run(shared_dir / "resorbed")
    series = {name: np.asarray(record.series[name]) for name in ("tissue_loss", "myelin_loss", "axon_loss")}
    time = np.asarray(record.time)
    for name in ("myelin_loss", "axon_loss"):  # the damage is fixed (to Newton's round-off)
        assert np.ptp(series[name]) <= 1e-10 * series[name][0]
    # the lesion sits in white matter (rho = 1 wherever myelin is lost): after full resorption
    # int (1 - T) = phi_y int (1 - y) + phi_a int (1 - a)
    predicted = (config.tissue.myelin_volume_fraction * series["myelin_loss"][-1]
                 + config.tissue.axon_volume_fraction * series["axon_loss"][-1])
    assert series["tissue_loss"][0] == 0.0 and predicted > 1.0
    assert series["tissue_loss"][-1] == pytest.approx(predicted, rel=1e-9)
    # on the way there it relaxes at k_T (BDF2 with 0.1-yr steps: within 0.5 %)
    one_year = int(np.flatnonzero(time == 1.0)[0])
    assert series["tissue_loss"][one_year] == pytest.approx(predicted * (1 - math.exp(-1.0)), rel=5e-3)
    # node by node: the damaged core (all in white matter) keeps what its myelin and axons leave,
    # and where nothing was destroyed (to round-off) the tissue is untouched
    tissue, myelin, axons = (_component(simulation, name) for name in ("tissue", "myelin", "axons"))
    damage = 1.0 - myelin + 1.0 - axons
    remaining = 1.0 - config.tissue.myelin_volume_fraction * (1.0 - myelin) \
        - config.tissue.axon_volume_fraction * (1.0 - axons)
    damaged, intact = damage > 1e-6, damage < 1e-12
    assert damaged.any() and intact.any()
    assert np.allclose(tissue[damaged], remaining[damaged], rtol=0, atol=1e-10)
    assert np.all(np.abs(tissue[intact] - 1.0) <= 1e-11)
    assert np.all((tissue >= 0.0) & (tissue <= 1.0 + 1e-12))

    # no damage at all: the parenchyma keeps its whole volume, exactly
    simulation.reconfigure(load_config(None, (*STILL, "lesion.core_myelin=1.0", "lesion.core_axons=1.0",
                                              "time.end=5.0")))
    intact_run = simulation.run(shared_dir / "intact")
    assert np.all(np.asarray(intact_run.series["tissue_loss"]) == 0.0)
    width, depth = config.geometry.width, config.geometry.white_matter_depth + config.geometry.cortex_thickness
    assert np.allclose(intact_run.series["parenchymal_volume"], width * depth, rtol=1e-12)
    assert np.all(_component(simulation, "tissue") == 1.0)
