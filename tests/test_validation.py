"""Fast forms of the validation cases (the full report: ``rimmodel validate``)."""

import numpy as np

from rimmodel.validation.cases import dose_response_case

COARSE = ("geometry.mesh_size=0.3",)


def test_btk_dose_response_is_monotone(shared_dir):
    result = dose_response_case(shared_dir, occupancies=(0.0, 0.5, 1.0), years=4.0, overrides=COARSE)
    assert np.all(np.diff(result.expansion_rate) < 0)
    assert np.all(np.diff(result.axon_loss) < 0)
