"""Fast forms of the validation cases (the full report: ``rimmodel validate``)."""

import numpy as np

from rimmodel.validation.cases import dose_response_case, tissue_loss_case

COARSE = ("geometry.mesh_size=0.3",)


def test_btk_dose_response_is_monotone(shared_dir):
    result = dose_response_case(shared_dir, occupancies=(0.0, 0.5, 1.0), years=4.0, overrides=COARSE)
    assert np.all(np.diff(result.expansion_rate) < 0)
    assert np.all(np.diff(result.axon_loss) < 0)


def test_tissue_loss_shrinks_lesions_on_flair_and_iron_outlives_the_rim(shared_dir):
    """The tissue-loss case, shorter and coarser: one parameter set, a chronic active and a burnt-out lesion."""
    result = tissue_loss_case(shared_dir, years=10.0, overrides=COARSE, with_default_iron=False)
    active, burnt = result.active, result.burnt_out
    assert active.edge_advance(0, 10) > 0.8 and active.microglia_extinct is None
    # tissue loss holds the FLAIR volume below what the same scans show without it
    assert active.t2_volume[-1] < 0.6 * active.t2_volume_without_loss[-1]
    assert np.all(active.t2_volume <= active.t2_volume_without_loss)
    # the burnt-out lesion shrinks on FLAIR although its demyelinated area grew
    assert burnt.t2_volume[-1] < burnt.t2_volume.max() and burnt.model_lesion_volume[-1] > burnt.model_lesion_volume[0]
    # its iron rim outlives its microglial rim by years
    assert burnt.microglia_extinct is not None
    assert burnt.iron_extinct is None or burnt.iron_extinct >= burnt.microglia_extinct + 2.0
