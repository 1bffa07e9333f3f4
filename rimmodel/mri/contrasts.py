"""The forward model: tissue state at a point -> the signal each clinical contrast records there.

At a point, a fraction T of the volume is parenchyma (the run's ``tissue`` field) and 1 - T is
fluid that replaced resorbed debris. Each contrast mixes the two by volume:

  signal   = T * tissue signal + (1 - T) * fluid signal
  T2/FLAIR tissue = T2_class + v (ΔT2_y (1 - y) + ΔT2_m m)     bright: demyelination, oedema
  T1 tissue       = T1_class - v (ΔT1_a (1 - a) + ΔT1_y (1 - y))  dark: axon and matrix loss
  phase           = T * Fe                                      iron held by microglia/macrophages

The fluid is CSF-like: dark on FLAIR (fluid suppressed, ``t2_background``) and on T1
(``t1_background``), with no susceptibility. Lost tissue therefore darkens T1 and takes signal
out of FLAIR, which is how tissue loss reaches the T1 and T2 read-outs. ``v`` is 1 in white matter
and ``cortical_lesion_visibility`` in cortex (conventional MRI sees little cortical demyelination);
outside the tissue the signal is the background's.

Runs without a ``tissue`` field (written before it existed) are read with T = 1; runs without an
``iron`` field get the phase of activated microglia (all taken as iron-laden), as before.
Signals are linear in the state within a tissue class, so averaging them over a voxel's
sub-points (done by the caller) is the partial-volume mixture a scanner records.
"""

from __future__ import annotations

import numpy as np

from rimmodel.mri.parameters import MRIParameters

BACKGROUND, WHITE_MATTER, CORTEX = 0, 1, 2   # tissue classes (mesh cell tags 1, 2; 0 outside)
CONTRASTS = ("t2", "t1", "phase")
REQUIRED_FIELDS = ("myelin", "axons", "microglia")  # what every run has
OPTIONAL_FIELDS = ("tissue", "iron")                # absent in runs written before they were fields


def tissue_signals(tissue_class: np.ndarray, state: dict[str, np.ndarray],
                   params: MRIParameters) -> dict[str, np.ndarray]:
    """Signal of every contrast at points of class ``tissue_class`` with the fields ``state`` there.

    ``state`` holds myelin, axons and microglia, and the tissue fraction and iron if the run has them.
    """
    myelin, axons, microglia = (state[name] for name in REQUIRED_FIELDS)
    in_cortex, outside = tissue_class == CORTEX, tissue_class == BACKGROUND
    visibility = np.where(in_cortex, params.cortical_lesion_visibility, 1.0)
    demyelination = 1.0 - myelin
    t2 = np.where(in_cortex, params.t2_cortex, 1.0) + visibility * (
        params.t2_demyelination * demyelination + params.t2_inflammation * microglia)
    t1 = np.maximum(np.where(in_cortex, params.t1_cortex, 1.0) - visibility * (
        params.t1_axon_loss * (1.0 - axons) + params.t1_demyelination * demyelination), 0.0)
    parenchyma = np.clip(state["tissue"], 0.0, 1.0) if "tissue" in state else 1.0
    paramagnetic = parenchyma * np.maximum(state["iron"], 0.0) if "iron" in state else microglia
    return {
        "t2": np.where(outside, params.t2_background, _with_fluid(t2, params.t2_background, parenchyma)),
        "t1": np.where(outside, params.t1_background, _with_fluid(t1, params.t1_background, parenchyma)),
        "phase": np.where(outside, 0.0, paramagnetic),
    }


def _with_fluid(tissue_signal: np.ndarray, fluid_signal: float, parenchyma) -> np.ndarray:
    """Volume mixture of parenchyma (fraction ``parenchyma``) and fluid."""
    return parenchyma * tissue_signal + (1.0 - parenchyma) * fluid_signal


def phase_source(field_names) -> str:
    """What the phase image shows for a run with these fields: "iron" or "microglia" (older runs)."""
    return "iron" if "iron" in field_names else "microglia"


def t2_lesion_level(params: MRIParameters) -> float:
    """T2 signal above which a voxel is read as lesion."""
    return 1.0 + params.t2_lesion_threshold * params.t2_demyelination
