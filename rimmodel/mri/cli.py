"""``rimmodel mri RUN_DIR``: synthetic MRI of a run, NIfTI images and a read-out table.

Needs numpy, scipy, h5py and nibabel only: it runs on a laptop without the FEM stack.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

MRI_DIR = "mri"  # default output, inside the run directory
READOUTS_CSV = "readouts.csv"


def register(commands) -> None:
    mri = commands.add_parser(
        "mri", help="synthetic MRI of a run: T2/FLAIR, T1, phase (NIfTI) and radiology read-outs "
                    "(lesion volume, new/enlarging, PRL, SEL) beside the hidden damage")
    mri.add_argument("run_dir", type=Path, help="a run directory written by `rimmodel run`")
    mri.add_argument("--voxel", type=float, help="voxel edge, mm (default 1)")
    mri.add_argument("--slice", dest="slice_thickness", type=float,
                     help="slice thickness of a 2D run, mm (default 3)")
    mri.add_argument("--interval", dest="scan_interval", type=float,
                     help="years between scans (default 1; 0 = every output)")
    mri.add_argument("--noise", type=float, help="Gaussian noise, in NAWM units (default 0)")
    mri.add_argument("--seed", type=int, help="seed of the noise (default 0)")
    mri.add_argument("--out", type=Path, help=f"output directory (default RUN_DIR/{MRI_DIR})")
    mri.set_defaults(handler=_mri)


def _mri(args) -> int:
    try:
        from rimmodel.mri import hidden_damage, mri_parameters, radiology_readouts, synthetic_scans
        from rimmodel.mri.nifti import write_scans
        from rimmodel.mri.readouts import readout_masks, sel_assessments
    except ModuleNotFoundError as missing:  # scipy and nibabel are not in the base install
        print(f"rimmodel mri: needs scipy and nibabel ({missing}); pip install scipy nibabel", file=sys.stderr)
        return 2

    options = ("voxel", "slice_thickness", "scan_interval", "noise", "seed")
    names = {"voxel": "voxel_size"}
    params = mri_parameters(**{names.get(o, o): getattr(args, o) for o in options if getattr(args, o) is not None})
    out = args.out or args.run_dir / MRI_DIR
    start = time.perf_counter()
    scans = synthetic_scans(args.run_dir, params)
    sels = sel_assessments(scans)  # registration is the costly part: do it once for table and masks
    table = radiology_readouts(scans, sels).joined(hidden_damage(args.run_dir, params, scans.times))
    written = write_scans(scans, out, readout_masks(scans, sels))
    csv = table.write_csv(out / READOUTS_CSV)
    print(table.format())
    print(volume_summary(table, args.run_dir))
    print(f"rimmodel: {len(scans)} scans on a {'x'.join(map(str, scans.grid.shape))} grid "
          f"({time.perf_counter() - start:.1f} s) -> {len(written)} files and {csv} in {out}")
    return 0


def volume_summary(table, run_dir: Path) -> str:
    """Annualised brain and cortical volume change over the scans, beside the run's own (model-side)."""
    from rimmodel.mri.atrophy import annualised_change

    times = table["time_yr"]
    lines = [f"PBVC over the scans ({times[0]:g}-{times[-1]:g} yr), SIENAX-like from T1: "
             f"brain {annualised_change(times, table['brain_volume_mm3']):.3g} %/yr, "
             f"cortex {annualised_change(times, table['cortical_volume_mm3']):.3g} %/yr; "
             f"T2 lesion volume {table['t2_lesion_volume_mm3'][0]:g} -> {table['t2_lesion_volume_mm3'][-1]:g} mm^3"]
    lines.append(f"model (exact parenchymal volume of the scanned tissue): brain "
                 f"{annualised_change(times, table['parenchymal_volume_mm3']):.3g} %/yr, cortex "
                 f"{annualised_change(times, table['cortical_parenchymal_volume_mm3']):.3g} %/yr")
    return "\n".join(lines)
