"""Synthetic MRI of a run: what a clinical scan would show, beside the damage it would not.

Works on run directories with numpy, scipy, h5py and nibabel only (no FEM stack)::

    from rimmodel.mri import synthetic_scans, radiology_readouts, hidden_damage, mri_parameters

    scans = synthetic_scans("runs/reference_untreated", mri_parameters(voxel_size=1.0))
    print(radiology_readouts(scans).format())          # T2 volume, new/enlarging, PRL, SEL
    print(hidden_damage("runs/reference_untreated").format())  # axon loss, cortex, disability proxy

See docs/mri.md for the forward model and the read-out rules.
"""

from rimmodel.lazy_exports import lazy_exports

# Resolved on first use, so that ``rimmodel --help`` (which registers ``rimmodel mri``) works in
# an environment without scipy and nibabel.
_EXPORTS = {
    "hidden_damage": "rimmodel.mri.damage",
    "MRIParameters": "rimmodel.mri.parameters",
    "mri_parameters": "rimmodel.mri.parameters",
    "radiology_readouts": "rimmodel.mri.readouts",
    "ScanSeries": "rimmodel.mri.scans",
    "synthetic_scans": "rimmodel.mri.scans",
    "ReadoutTable": "rimmodel.mri.table",
}
__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)
