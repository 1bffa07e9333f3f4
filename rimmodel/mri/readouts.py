"""Radiology-style read-outs of a scan series, one row per scan.

Per scan: T2 lesion volume and count, T1 black-hole volume, PRLs, brain and cortical volume
(SIENAX-like, ``atrophy.py``). Per interval since the previous scan: new and enlarging T2
lesions, the change of T2 lesion volume, the annualised percentage brain (and cortical) volume
change. Per SEL window (``sel_scans`` scans ending at this one): SEL count, volume and
expansion rate. A value that needs earlier scans than exist is ``nan`` (empty in the CSV).
"""

from __future__ import annotations

import math

import numpy as np

from rimmodel.mri.atrophy import brain_volumes, percent_change_per_year
from rimmodel.mri.lesions import black_hole_mask, label_lesions, lesion_change, lesion_mask
from rimmodel.mri.prl import assess_rims
from rimmodel.mri.scans import ScanSeries
from rimmodel.mri.sel import SELAssessment, detect_sel, register_successive
from rimmodel.mri.table import ReadoutTable

RADIOLOGY_UNITS = {
    "t2_lesion_volume_mm3": "mm^3",
    "t2_lesion_count": "-",
    "t2_lesion_volume_change_per_yr": "mm^3/yr",
    "t1_black_hole_volume_mm3": "mm^3",
    "new_lesions": "-",
    "enlarging_lesions": "-",
    "new_or_enlarging": "-",
    "prl_count": "-",
    "prl_present": "0/1",
    "prl_rim_voxels": "-",
    "sel_present": "0/1",
    "sel_count": "-",
    "sel_volume_mm3": "mm^3",
    "sel_expansion_rate": "1/yr",
    "brain_volume_mm3": "mm^3",
    "cortical_volume_mm3": "mm^3",
    "pbvc_per_yr": "%/yr",
    "cortical_pbvc_per_yr": "%/yr",
}


def radiology_readouts(scans: ScanSeries, sels: list[SELAssessment] | None = None) -> ReadoutTable:
    """The read-out table of ``scans``; ``sels`` (from :func:`sel_assessments`) saves registering twice."""
    sel_at = {sel.last: sel for sel in (sel_assessments(scans) if sels is None else sels)}
    rows = [_scan_row(scans, n, sel_at.get(n)) for n in range(len(scans))]
    _add_changes(rows, scans.times)
    table = ReadoutTable()
    table.add("time_yr", scans.times, "yr")
    for name, unit in RADIOLOGY_UNITS.items():
        table.add(name, [row[name] for row in rows], unit)
    return table


def sel_assessments(scans: ScanSeries) -> list[SELAssessment]:
    """One SEL assessment per window of ``sel_scans`` successive scans, in order of their last scan."""
    windows = range(len(scans) - scans.params.sel_scans + 1)
    registrations = register_successive(scans) if windows else []
    return [detect_sel(scans, first, registrations) for first in windows]


def _scan_row(scans: ScanSeries, n: int, sel: SELAssessment | None) -> dict[str, float]:
    voxel = scans.grid.voxel_volume
    lesions = lesion_mask(scans, n)
    rims, _ = assess_rims(scans, n)
    prls = [rim for rim in rims if rim.is_prl]
    row = {
        "t2_lesion_volume_mm3": lesions.sum() * voxel,
        "t2_lesion_count": label_lesions(lesions)[1],
        "t1_black_hole_volume_mm3": black_hole_mask(scans, n).sum() * voxel,
        "prl_count": len(prls),
        "prl_present": float(bool(prls)),
        "prl_rim_voxels": sum(rim.rim_voxels for rim in prls),
    }
    row["brain_volume_mm3"], row["cortical_volume_mm3"] = brain_volumes(scans, n)
    row.update(_change_since_previous(scans, n, lesions))
    row.update(_sel_columns(sel))
    return row


def _add_changes(rows: list[dict], times) -> None:
    """Per interval since the previous scan: lesion volume change (mm^3/yr) and PBVC (%/yr)."""
    for name, source in (("pbvc_per_yr", "brain_volume_mm3"), ("cortical_pbvc_per_yr", "cortical_volume_mm3")):
        for row, value in zip(rows, percent_change_per_year(times, [row[source] for row in rows])):
            row[name] = value
    volume = [row["t2_lesion_volume_mm3"] for row in rows]
    for n, row in enumerate(rows):
        row["t2_lesion_volume_change_per_yr"] = (volume[n] - volume[n - 1]) / (times[n] - times[n - 1]) \
            if n > 0 and times[n] > times[n - 1] else math.nan


def _change_since_previous(scans: ScanSeries, n: int, lesions: np.ndarray) -> dict[str, float]:
    if n == 0:
        return dict.fromkeys(("new_lesions", "enlarging_lesions", "new_or_enlarging"), math.nan)
    change = lesion_change(lesion_mask(scans, n - 1), lesions, scans.grid.voxel_volume, scans.params)
    return {"new_lesions": change.new, "enlarging_lesions": change.enlarging,
            "new_or_enlarging": change.new_or_enlarging}


def _sel_columns(sel: SELAssessment | None) -> dict[str, float]:
    """The SEL window ending at this scan; undefined before the first complete window."""
    if sel is None:
        return dict.fromkeys(("sel_present", "sel_count", "sel_volume_mm3", "sel_expansion_rate"), math.nan)
    return {"sel_present": float(sel.count > 0), "sel_count": sel.count, "sel_volume_mm3": sel.volume,
            "sel_expansion_rate": sel.expansion_rate}


def readout_masks(scans: ScanSeries, sels: list[SELAssessment] | None = None) -> dict[str, np.ndarray]:
    """What the read-outs counted, per scan (n, *grid.shape): T2 lesion, PRL rim and SEL voxels.

    A SEL mask is placed at the last scan of its window; earlier scans have none.
    """
    sels = sel_assessments(scans) if sels is None else sels
    sel = np.zeros((len(scans), *scans.grid.shape), dtype=bool)
    for assessment in sels:
        sel[assessment.last] = assessment.mask
    return {
        "t2_lesion_mask": np.array([lesion_mask(scans, n) for n in range(len(scans))]),
        "prl_rim_mask": np.array([assess_rims(scans, n)[1] for n in range(len(scans))]),
        "sel_mask": sel,
    }
