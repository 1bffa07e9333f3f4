"""The forward model: tissue state at a point -> the signal each clinical contrast records there.

Signals are linear in the state within a tissue class, so averaging them over a voxel's
sub-points (done by the caller) is the partial-volume mixture a scanner records.

  T2/FLAIR = T2_tissue + v (ΔT2_y (1 - y) + ΔT2_m m)            bright: demyelination, oedema
  T1       = T1_tissue - v (ΔT1_a (1 - a) + ΔT1_y (1 - y))      dark: axon and matrix loss
  phase    = m                                                   iron-laden microglia (paramagnetic)

``v`` is 1 in white matter and ``cortical_lesion_visibility`` in cortex (conventional MRI
sees little cortical demyelination); outside the tissue the signal is the background's.
"""

from __future__ import annotations

import numpy as np

from rimmodel.mri.parameters import MRIParameters

BACKGROUND, WHITE_MATTER, CORTEX = 0, 1, 2   # tissue classes (mesh cell tags 1, 2; 0 outside)
CONTRASTS = ("t2", "t1", "phase")


def tissue_signals(tissue: np.ndarray, myelin: np.ndarray, axons: np.ndarray, microglia: np.ndarray,
                   params: MRIParameters) -> dict[str, np.ndarray]:
    """Signal of every contrast at points of tissue class ``tissue`` with the given state."""
    in_cortex, outside = tissue == CORTEX, tissue == BACKGROUND
    visibility = np.where(in_cortex, params.cortical_lesion_visibility, 1.0)
    demyelination = 1.0 - myelin
    t2 = np.where(in_cortex, params.t2_cortex, 1.0) + visibility * (
        params.t2_demyelination * demyelination + params.t2_inflammation * microglia)
    t1 = np.where(in_cortex, params.t1_cortex, 1.0) - visibility * (
        params.t1_axon_loss * (1.0 - axons) + params.t1_demyelination * demyelination)
    return {
        "t2": np.where(outside, params.t2_background, t2),
        "t1": np.where(outside, params.t1_background, np.maximum(t1, 0.0)),
        "phase": np.where(outside, 0.0, microglia),
    }


def t2_lesion_level(params: MRIParameters) -> float:
    """T2 signal above which a voxel is read as lesion."""
    return 1.0 + params.t2_lesion_threshold * params.t2_demyelination
