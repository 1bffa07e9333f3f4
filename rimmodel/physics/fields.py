"""A field of the model is one declaration; everything else about it is derived.

A :class:`Field` states what a quantity is (name, symbol, unit, bounds), where it starts
(healthy-tissue value and the lesion-core value), how it is solved (the preconditioner
block it belongs to), how it is drawn, its terms and a smooth manufactured profile. A
:class:`FieldSet` orders the declarations and derives from them the mixed-space layout,
the initial state, the PETSc fieldsplit, the printed equations and the record a run
directory keeps of its fields (``fields.json``, read by rimviz and ``rimmodel mri``).

Nothing here imports DOLFINx: the terms are plain callables evaluated by the equations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from rimmodel.io.field_record import FIELD_RECORD_FORMAT

# How the iterative preconditioner treats a field (rimmodel/config/solver_presets.py):
#   "pointwise": barely moves and is coupled to the others cell by cell -> one shared Schwarz-ILU block;
#   "diffusive": a screened diffusion over many cells -> its own algebraic-multigrid block.
SPLIT_KINDS = ("pointwise", "diffusive")


@dataclass(frozen=True)
class Layer:
    """How a field is drawn: colour-bar label (with units), colour map and limits."""

    label: str
    cmap: str
    limits: tuple[float, float] | None = None  # None: shared data limits over runs and frames
    loss: tuple[str, str] | None = None        # (layer name, label) of a "1 - value" layer


@dataclass(frozen=True)
class Manufactured:
    """Exact solutions for verification: a smooth profile (x, t, dim) -> UFL, and a level
    and amplitude for the profile that is linear in space (the time-order test)."""

    smooth: Callable
    level: float
    amplitude: float


@dataclass(frozen=True)
class Field:
    """One unknown of the model and its equation  d(field)/dt = div(transport) + reaction.

    ``transport(q)``, ``reaction(q)`` and ``pial_source(q)`` receive a :class:`Terms` view and
    return UFL expressions (``None``: no such term). ``transport`` is the vector J in
    ``d u/dt = div J + ...``; ``pial_source`` is the inward flux density on the pia.
    """

    name: str
    symbol: str
    unit: str
    description: str
    bounds: tuple[float, float | None]
    background: float                      # value in healthy tissue
    lesion_core: str | None                # attribute of LesionParameters with the seeded core's value
    split: str                             # one of SPLIT_KINDS
    layer: Layer
    equation: str                          # how the equation is written, in the parameters' symbols
    manufactured: Manufactured
    transport: Callable | None = None
    reaction: Callable | None = None
    pial_source: Callable | None = None

    def __post_init__(self):
        if self.split not in SPLIT_KINDS:
            raise ValueError(f"field {self.name}: split must be one of {SPLIT_KINDS}, got {self.split!r}")

    def record(self) -> dict:
        layer = {"label": self.layer.label, "cmap": self.layer.cmap,
                 "limits": list(self.layer.limits) if self.layer.limits else None}
        if self.layer.loss is not None:
            layer["loss"] = {"name": self.layer.loss[0], "label": self.layer.loss[1]}
        return {"name": self.name, "symbol": self.symbol, "unit": self.unit, "description": self.description,
                "bounds": list(self.bounds), "layer": layer}


@dataclass
class Terms:
    """What a field's terms see: the parameters by symbol (``k``), every field's value by name
    (``q.microglia``), the spatial data (``domain``: white-matter indicator, follicle density,
    measures) and model-level quantities (``extra``: e.g. BTK occupancy)."""

    k: dict
    values: dict
    domain: object
    extra: dict = field(default_factory=dict)

    def __getattr__(self, name):
        for table in ("values", "extra"):
            mapping = self.__dict__.get(table, {})
            if name in mapping:
                return mapping[name]
        raise AttributeError(f"no field or model quantity named {name!r}")


class FieldSet:
    """The model's fields in the order of the mixed space's components."""

    def __init__(self, fields: list[Field], notes: str = ""):
        self._fields = tuple(fields)
        self.notes = notes  # model-level definitions and boundary conditions, for the printed equations
        reserved = sorted({f.name for f in self._fields} & {"k", "values", "domain", "extra"})
        if reserved:
            raise ValueError(f"field name {reserved[0]!r} is reserved (an attribute of the terms' view)")
        for attribute in ("name", "symbol"):
            seen = [getattr(f, attribute) for f in self._fields]
            duplicates = sorted({item for item in seen if seen.count(item) > 1})
            if duplicates:
                raise ValueError(f"field {attribute}s must be unique, repeated: {', '.join(duplicates)}")

    def __iter__(self) -> Iterator[Field]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __getitem__(self, name: str) -> Field:
        return self._fields[self.index(name)]

    def __repr__(self) -> str:
        return f"FieldSet({', '.join(self.names)})"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self._fields)

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no field {name!r}; fields: {', '.join(self.names)}") from None

    def with_field(self, new: Field) -> FieldSet:
        """These fields plus ``new`` (appended: existing component indices stay)."""
        return FieldSet([*self._fields, new], self.notes)

    def split(self, u) -> dict:
        """Components of a mixed-space object by field name (``u[i]`` in declaration order)."""
        return {name: u[i] for i, name in enumerate(self.names)}

    def initial_values(self, inside: np.ndarray, lesion) -> dict[str, np.ndarray]:
        """Each field at points where ``inside`` is 1 in the seeded core and 0 in healthy tissue."""
        values = {}
        for f in self._fields:
            core = f.background if f.lesion_core is None else getattr(lesion, f.lesion_core)
            values[f.name] = f.background + (core - f.background) * inside
        return values

    def healthy_state(self, points: int) -> np.ndarray:
        """Every field at its healthy-tissue value, shape (fields, points)."""
        return np.array([np.full(points, f.background, dtype=float) for f in self._fields])

    def split_blocks(self) -> list[tuple[str, list[int]]]:
        """Preconditioner blocks as (kind, component indices): all pointwise fields together first,
        then one block per diffusive field."""
        pointwise = [i for i, f in enumerate(self._fields) if f.split == "pointwise"]
        diffusive = [("diffusive", [i]) for i, f in enumerate(self._fields) if f.split == "diffusive"]
        return ([("pointwise", pointwise)] if pointwise else []) + diffusive

    def describe(self) -> str:
        """The equations as declared, one per field, then the model's notes."""
        lines = [f"  {f.equation}" for f in self._fields]
        return "\n".join(lines + ([self.notes] if self.notes else []))

    def record(self) -> dict:
        return {"format": FIELD_RECORD_FORMAT, "fields": [f.record() for f in self._fields]}
