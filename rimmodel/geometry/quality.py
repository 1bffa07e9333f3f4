"""Mesh quality report: cell count, cell shape, orientation, tagged areas and volumes.

Collective: every rank measures its owned cells and facets; the numbers are
reduced over the communicator, so every rank returns the same report.

Shape is the radius ratio ``d * r_in / r_circ`` (1 for the equilateral triangle
and the regular tetrahedron, 0 for a degenerate cell).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rimmodel.fem import MPI, mesh as dmesh
from rimmodel.geometry.domain import CELL_TAG_NAMES, FACET_TAG_NAMES, Domain


@dataclass
class QualityReport:
    name: str
    dim: int
    cells: int
    vertices: int
    quality_min: float
    quality_max: float
    quality_mean: float
    inverted_cells: int  # Jacobian determinant <= 0
    tissue_measure: dict[str, float] = field(default_factory=dict)  # area (2D) / volume (3D) per cell tag
    surface_measure: dict[str, float] = field(default_factory=dict)  # length (2D) / area (3D) per facet tag

    def text(self) -> str:
        unit, facet_unit = f"mm^{self.dim}", f"mm^{self.dim - 1}" if self.dim > 2 else "mm"
        lines = [f"{self.name}: {self.dim}D, {self.cells} cells, {self.vertices} vertices",
                 f"  radius ratio: min {self.quality_min:.3f}, mean {self.quality_mean:.3f}, "
                 f"max {self.quality_max:.3f}; inverted cells: {self.inverted_cells}"]
        lines += [f"  {name}: {value:.6g} {unit}" for name, value in self.tissue_measure.items()]
        lines += [f"  {name} surface: {value:.6g} {facet_unit}" for name, value in self.surface_measure.items()]
        return "\n".join(lines)


def quality_report(domain: Domain) -> QualityReport:
    msh, comm = domain.mesh, domain.mesh.comm
    tdim = msh.topology.dim
    owned = msh.topology.index_map(tdim).size_local
    corners = msh.geometry.x[msh.geometry.dofmaps[0][:owned]][:, :, :msh.geometry.dim]
    quality = radius_ratio(corners)
    determinant = jacobian_determinants(corners)

    def total(value):
        return comm.allreduce(value, op=MPI.SUM)

    cells = total(owned)
    return QualityReport(
        name=domain.name, dim=tdim, cells=cells, vertices=msh.topology.index_map(0).size_global,
        quality_min=comm.allreduce(quality.min(initial=np.inf), op=MPI.MIN),
        quality_max=comm.allreduce(quality.max(initial=-np.inf), op=MPI.MAX),
        quality_mean=total(quality.sum()) / cells, inverted_cells=total(int(np.sum(determinant <= 0))),
        tissue_measure={CELL_TAG_NAMES[tag]: total(_tagged_sum(domain.cell_tags, tag, np.abs(determinant), owned))
                        / math.factorial(tdim) for tag in CELL_TAG_NAMES},
        surface_measure={FACET_TAG_NAMES[tag]: total(_facet_measure(domain, tag)) for tag in FACET_TAG_NAMES})


def radius_ratio(corners: np.ndarray) -> np.ndarray:
    """d r_in / r_circ of simplices given as corners (cells, d+1, d)."""
    if corners.shape[1] == 3:
        a, b, c = (np.linalg.norm(corners[:, i] - corners[:, j], axis=1) for i, j in ((1, 2), (2, 0), (0, 1)))
        return (b + c - a) * (c + a - b) * (a + b - c) / (a * b * c)
    edges = corners[:, 1:] - corners[:, :1]  # (cells, 3, 3)
    volume = np.abs(np.linalg.det(edges)) / 6
    faces = [(1, 2, 3), (0, 2, 3), (0, 1, 3), (0, 1, 2)]
    area = sum(0.5 * np.linalg.norm(np.cross(corners[:, j] - corners[:, i], corners[:, k] - corners[:, i]), axis=1)
               for i, j, k in faces)
    inradius = 3 * volume / area
    squared = np.sum(edges**2, axis=2)
    e0, e1, e2 = edges[:, 0], edges[:, 1], edges[:, 2]
    circumradius = np.linalg.norm(squared[:, :1] * np.cross(e1, e2) + squared[:, 1:2] * np.cross(e2, e0)
                                  + squared[:, 2:] * np.cross(e0, e1), axis=1) / (12 * volume)
    return 3 * inradius / circumradius


def jacobian_determinants(corners: np.ndarray) -> np.ndarray:
    """det J of the affine map from the reference simplex, in the cells' own vertex order."""
    return np.linalg.det(corners[:, 1:] - corners[:, :1])


def _tagged_sum(tags: dmesh.MeshTags, tag: int, values: np.ndarray, owned: int) -> float:
    cells = tags.find(tag)
    return float(values[cells[cells < owned]].sum())


def _facet_measure(domain: Domain, tag: int) -> float:
    msh = domain.mesh
    fdim = msh.topology.dim - 1
    facets = domain.facet_tags.find(tag)
    facets = facets[facets < msh.topology.index_map(fdim).size_local]
    corners = msh.geometry.x[dmesh.entities_to_geometry(msh, fdim, facets, False)]
    if fdim == 1:
        return float(np.linalg.norm(corners[:, 1] - corners[:, 0], axis=1).sum())
    return float(0.5 * np.linalg.norm(np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]),
                                      axis=1).sum())
