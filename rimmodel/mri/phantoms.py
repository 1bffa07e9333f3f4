"""Analytic lesion phantoms on a structured mesh: scans of known truth, for tests and teaching.

A phantom is a disc (2D) or ball (3D) of demyelinated white matter of radius R(t), with
an optional shell of activated microglia just outside its edge (the rim), and optionally the
fields of runs with tissue loss and iron: a core whose tissue fraction has fallen, and iron in
the rim shell. It offers the
same interface as a run's fields (``rimmodel.mri.scans.Fields``), so the whole MRI chain
runs on it unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

import numpy as np

from rimmodel.mri.contrasts import WHITE_MATTER

EDGE_WIDTH = 0.05  # mm: the phantom's edges are sharp on the scale of a voxel


@dataclass
class PhantomFields:
    points: np.ndarray
    cells: np.ndarray
    cell_type: str
    times: np.ndarray
    fields: dict[str, np.ndarray]          # name -> (n_times, n_points)
    cell_tags: np.ndarray | None = None
    name: str = "phantom"

    @property
    def names(self) -> list[str]:
        return list(self.fields)

    def values(self, name: str, index: int) -> np.ndarray:
        return self.fields[name][index]

    def index_at(self, t: float) -> int:
        return int(np.argmin(np.abs(self.times - t)))


def box_mesh(half_width: float, spacing: float, dimension: int) -> tuple[np.ndarray, np.ndarray]:
    """Points (n, 3) and simplices of the box [-half_width, half_width]^d (squares/cubes split)."""
    count = round(2 * half_width / spacing) + 1
    axis = np.linspace(-half_width, half_width, count)
    grids = np.meshgrid(*([axis] * dimension), indexing="ij")
    points = np.column_stack([g.ravel() for g in grids] + [np.zeros(grids[0].size)] * (3 - dimension))
    index = np.arange(count**dimension).reshape((count,) * dimension)
    return points, _split_boxes(index, dimension)


def _split_boxes(index: np.ndarray, dimension: int) -> np.ndarray:
    """Simplices filling every grid square (2 triangles) or cube (6 tetrahedra, along the main diagonal)."""
    corner = {}
    for offset in np.ndindex(*(2,) * dimension):
        window = tuple(slice(o, o + index.shape[a] - 1) for a, o in enumerate(offset))
        corner[offset] = index[window].ravel()
    simplices = []
    for order in permutations(range(dimension)):  # each path from corner 0...0 to 1...1, one axis at a time
        step, path = [0] * dimension, [corner[(0,) * dimension]]
        for axis in order:
            step[axis] = 1
            path.append(corner[tuple(step)])
        simplices.append(np.column_stack(path))
    return np.concatenate(simplices)


def lesion_phantom(dimension: int, radii: list[float] | np.ndarray, times: list[float] | np.ndarray | None = None,
                   rim_density: float = 0.0, rim_width: float = 1.0, core_myelin: float = 0.0,
                   core_axons: float = 0.5, half_width: float = 6.0, spacing: float | None = None,
                   centre: tuple[float, ...] = (0.0, 0.0, 0.0), core_tissue: float | list[float] | None = None,
                   rim_iron: float | list[float] | None = None) -> PhantomFields:
    """A lesion of radius ``radii[n]`` (mm) at ``times[n]`` (yr, default 0, 1, 2, ...) centred at ``centre``.

    The tissue is the box [-half_width, half_width]^d meshed with cells of edge ``spacing``.
    Inside: myelin ``core_myelin``, axons ``core_axons``; a shell ``rim_width`` mm wide outside
    the edge holds activated microglia at ``rim_density``; everything else is intact white matter.
    ``core_tissue`` (tissue fraction inside) and ``rim_iron`` (iron in the shell), each one value
    or one per time, add a ``tissue`` and an ``iron`` field; without them the phantom has neither,
    like a run written before those fields existed.
    """
    radii = np.asarray(radii, dtype=float)
    times = np.arange(len(radii), dtype=float) if times is None else np.asarray(times, dtype=float)
    spacing = spacing or (0.2 if dimension == 2 else 0.4)
    points, cells = box_mesh(half_width, spacing, dimension)
    r = np.linalg.norm(points - np.asarray(centre, dtype=float), axis=1)
    inside = np.array([_step(radius - r) for radius in radii])
    in_rim = np.array([_step(r - radius) * _step(radius + rim_width - r) for radius in radii])
    fields = {
        "myelin": 1.0 - (1.0 - core_myelin) * inside,
        "axons": 1.0 - (1.0 - core_axons) * inside,
        "microglia": rim_density * in_rim,
    }
    if core_tissue is not None:
        fields["tissue"] = 1.0 - (1.0 - _per_time(core_tissue, len(radii))[:, None]) * inside
    if rim_iron is not None:
        fields["iron"] = _per_time(rim_iron, len(radii))[:, None] * in_rim
    cell_type = "triangle" if dimension == 2 else "tetrahedron"
    return PhantomFields(points, cells, cell_type, times, fields, np.full(len(cells), WHITE_MATTER))


def _per_time(value: float | list[float], count: int) -> np.ndarray:
    values = np.broadcast_to(np.asarray(value, dtype=float), (count,)) if np.ndim(value) == 0 \
        else np.asarray(value, dtype=float)
    if values.shape != (count,):
        raise ValueError(f"expected one value or {count} (one per time), got {len(values)}")
    return values


def _step(signed_distance: np.ndarray) -> np.ndarray:
    """1 where the distance is positive, 0 where negative, over a width EDGE_WIDTH."""
    return 0.5 * (1.0 + np.tanh(signed_distance / EDGE_WIDTH))


def ball_volume(radius: float, dimension: int, slice_thickness: float) -> float:
    """mm^3 of the lesion as scanned: a ball in 3D, a disc times the slice thickness in 2D."""
    return 4 / 3 * np.pi * radius**3 if dimension == 3 else np.pi * radius**2 * slice_thickness
