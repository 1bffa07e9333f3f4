"""Synthetic MRI of a run: what a clinical scan would show, beside the damage it would not.

Works on run directories with numpy, scipy, h5py and nibabel only (no FEM stack)::

    from rimmodel.mri import synthetic_scans, radiology_readouts, hidden_damage, mri_parameters

    scans = synthetic_scans("runs/reference_untreated", mri_parameters(voxel_size=1.0))
    print(radiology_readouts(scans).format())          # T2 volume, new/enlarging, PRL, SEL
    print(hidden_damage("runs/reference_untreated").format())  # axon loss, cortex, disability proxy

See docs/mri.md for the forward model and the read-out rules.
"""

from rimmodel.mri.damage import hidden_damage
from rimmodel.mri.parameters import MRIParameters, mri_parameters
from rimmodel.mri.readouts import radiology_readouts
from rimmodel.mri.scans import ScanSeries, synthetic_scans
from rimmodel.mri.table import ReadoutTable

__all__ = ["MRIParameters", "ReadoutTable", "ScanSeries", "hidden_damage", "mri_parameters",
           "radiology_readouts", "synthetic_scans"]
