"""The damage a scan does not show, integrated exactly on the run's own mesh.

* axon loss, ∫(1 - a), over all tissue, white matter and cortex (fraction and mm^3);
* tissue loss, ∫(1 - T), and the parenchymal volume ∫T, all tissue and cortex (mm^3): the volume the
  brain-volume read-outs try to measure (T = 1 for runs without a tissue field);
* cortex under follicles: cortex where the follicle factor exceeds ``follicle_exposure_fraction``
  of its maximum over the cortex at that time — its mean axon loss and demyelination;
* a **disability proxy**: the axon-loss fraction of the tissue, cortex weighted by
  ``cortical_disability_weight``. It is a proxy, not a prediction of EDSS: it rests on axonal
  loss being the substrate of irreversible disability in MS (Trapp & Nave 2008, Annu Rev
  Neurosci 31:247; Trapp et al. 1998, N Engl J Med 338:278) and on cortical damage tracking
  disability (Magliozzi et al. 2007, Brain 130:1089).

P1 fields integrate exactly as cell volume times the mean of the cell's vertex values, and for
radial and axisymmetric runs with their 3D volume elements (``rimmodel.mri.revolution``).
For a 2D section, volumes are those of the scanned slab (area times ``slice_thickness``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from rimmodel.io.field_series import read_fields
from rimmodel.mri.contrasts import CORTEX
from rimmodel.mri.parameters import MRIParameters
from rimmodel.mri.revolution import revolution_of
from rimmodel.mri.scans import CELL_DIMENSION, Fields
from rimmodel.mri.table import ReadoutTable


def hidden_damage(run: str | Path | Fields, params: MRIParameters | None = None,
                  times: np.ndarray | None = None) -> ReadoutTable:
    """Axon loss, cortical damage under follicles and the disability proxy at ``times`` (default: every output)."""
    params = params or MRIParameters()
    fields = read_fields(run) if isinstance(run, (str, Path)) else run
    weights = _vertex_weights(fields, params)
    volume = weights.sum(axis=1)
    cortex = np.zeros(len(volume), bool) if fields.cell_tags is None else fields.cell_tags == CORTEX
    indices = range(len(fields.times)) if times is None else [fields.index_at(t) for t in times]
    rows = [_damage_at(fields, index, weights, cortex, params) for index in indices]
    table = ReadoutTable()
    table.add("time_yr", [fields.times[i] for i in indices], "yr")
    for name, unit in DAMAGE_UNITS.items():
        table.add(name, [row[name] for row in rows], unit)
    return table


DAMAGE_UNITS = {
    "axon_loss_mm3": "mm^3",
    "tissue_loss_mm3": "mm^3",
    "parenchymal_volume_mm3": "mm^3",
    "cortical_parenchymal_volume_mm3": "mm^3",
    "axon_loss_fraction": "1",
    "white_matter_axon_loss_fraction": "1",
    "cortical_axon_loss_fraction": "1",
    "follicle_cortex_axon_loss_fraction": "1",
    "follicle_cortex_demyelination_fraction": "1",
    "disability_proxy": "1",
}


def _damage_at(fields: Fields, index: int, weights: np.ndarray, cortex: np.ndarray,
               params: MRIParameters) -> dict[str, float]:
    volume = weights.sum(axis=1)
    mean = lambda name: _cell_means(fields.values(name, index), fields.cells, weights)  # noqa: E731
    axon_loss = 1.0 - mean("axons")     # per cell
    tissue = mean("tissue") if "tissue" in fields.names else np.ones(len(volume))
    demyelination = 1.0 - mean("myelin")
    exposed = cortex & _follicle_exposed(fields, index, cortex, params.follicle_exposure_fraction)
    weight = np.where(cortex, params.cortical_disability_weight, 1.0) * volume
    return {
        "axon_loss_mm3": float(axon_loss @ volume),
        "tissue_loss_mm3": float((1.0 - tissue) @ volume),
        "parenchymal_volume_mm3": float(tissue @ volume),
        "cortical_parenchymal_volume_mm3": float(tissue[cortex] @ volume[cortex]),
        "axon_loss_fraction": _mean(axon_loss, volume, np.ones_like(cortex)),
        "white_matter_axon_loss_fraction": _mean(axon_loss, volume, ~cortex),
        "cortical_axon_loss_fraction": _mean(axon_loss, volume, cortex),
        "follicle_cortex_axon_loss_fraction": _mean(axon_loss, volume, exposed),
        "follicle_cortex_demyelination_fraction": _mean(demyelination, volume, exposed),
        "disability_proxy": float(axon_loss @ weight / weight.sum()),
    }


def _follicle_exposed(fields: Fields, index: int, cortex: np.ndarray, fraction: float) -> np.ndarray:
    """Cells whose mean follicle factor reaches ``fraction`` of the cortical maximum (none if no follicles)."""
    if "follicle_factor" not in fields.names or not cortex.any():
        return np.zeros_like(cortex)
    factor = fields.values("follicle_factor", index)[fields.cells].mean(axis=1)
    peak = factor[cortex].max()
    return factor >= fraction * peak if peak > 0 else np.zeros_like(cortex)


def _mean(values: np.ndarray, volume: np.ndarray, where: np.ndarray) -> float:
    """Volume-weighted mean over the cells ``where`` (nan if there are none)."""
    total = volume[where].sum()
    return float(values[where] @ volume[where] / total) if total > 0 else math.nan


def _vertex_weights(fields: Fields, params: MRIParameters) -> np.ndarray:
    """(cells, vertices): ∫ u = Σ weights · u[cells] for P1 fields, in mm³ of the scanned tissue."""
    revolution = revolution_of(fields)
    if revolution is not None:
        return revolution.vertex_weights(fields.points, fields.cells)
    volume = _cell_volumes(fields.points, fields.cells)
    if CELL_DIMENSION[fields.cell_type] == 2:
        volume = volume * params.slice_thickness
    return np.repeat(volume[:, None] / fields.cells.shape[1], fields.cells.shape[1], axis=1)


def _cell_means(nodal: np.ndarray, cells: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The volume-weighted mean of a P1 field over each cell (the plain vertex mean on flat cells)."""
    return (weights * nodal[cells]).sum(axis=1) / weights.sum(axis=1)


def _cell_volumes(points: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Area (triangles) or volume (tetrahedra) of each cell, mm^d."""
    dim = cells.shape[1] - 1
    corners = points[:, :dim][cells]
    edges = corners[:, 1:] - corners[:, :1]
    return np.abs(np.linalg.det(edges)) / math.factorial(dim)
