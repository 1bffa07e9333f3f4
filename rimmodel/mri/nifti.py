"""Write synthetic scans as NIfTI-1 (one 4D file per contrast or mask, scan times along the 4th axis).

The affine maps voxel indices to the run's mm coordinates and is set as both qform and
sform (code 1, "scanner"), so any neuroimaging viewer (FSLeyes, ITK-SNAP, 3D Slicer,
nibabel) places the images where the mesh is. NIfTI has no unit of years, so the time
unit is left unknown, pixdim[4] holds the mean scan interval in years, and the exact
scan times go into the JSON sidecar ``scans.json``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import nibabel as nib
import numpy as np

from rimmodel.mri.scans import ScanSeries

SIDECAR = "scans.json"
PHASE_UNITS = {"iron": "iron held by microglia/macrophages times tissue fraction (units of the iron field)",
               "microglia": "activated microglia density (1 = capacity; run without an iron field)"}
_SCANNER_SPACE = 1  # NIfTI xform code: scanner-based anatomical coordinates


def write_volume(path: Path, series: np.ndarray, affine: np.ndarray, interval: float) -> Path:
    """A 4D (x, y, z, time) series with ``affine`` as qform and sform."""
    dtype = np.uint8 if series.dtype == bool else np.float32
    image = nib.Nifti1Image(np.asarray(series, dtype=dtype), affine)
    image.set_qform(affine, code=_SCANNER_SPACE)
    image.set_sform(affine, code=_SCANNER_SPACE)
    image.header.set_xyzt_units(xyz="mm")
    image.header.set_zooms((*np.diag(affine)[:3], interval))
    nib.save(image, path)
    return path


def write_scans(scans: ScanSeries, out_dir: str | Path, masks: dict[str, np.ndarray]) -> list[Path]:
    """``<name>.nii.gz`` for each contrast and each mask (n, *grid.shape), and the JSON sidecar."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    interval = float(np.diff(scans.times).mean()) if len(scans) > 1 else 0.0
    volumes = {**scans.images, **masks}
    written = [write_volume(out / f"{name}.nii.gz", np.moveaxis(series, 0, -1), scans.grid.affine, interval)
               for name, series in volumes.items()]  # scans last: (x, y, z, t) as NIfTI expects
    sidecar = {
        "source": scans.source,
        "times_yr": scans.times.tolist(),
        "voxel_size_mm": list(scans.grid.spacing),
        "run_dimension": scans.grid.dimension,
        "units": {"t2": "NAWM = 1", "t1": "NAWM = 1", "phase": PHASE_UNITS[scans.phase_source]},
        "phase_source": scans.phase_source,
        "fields_read": list(scans.state_fields),
        "files": {name: f"{name}.nii.gz" for name in volumes},
        "parameters": dataclasses.asdict(scans.params),
    }
    (out / SIDECAR).write_text(json.dumps(sidecar, indent=2))
    return [*written, out / SIDECAR]
