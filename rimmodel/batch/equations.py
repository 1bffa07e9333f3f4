"""The model's equations with one parameter set per part of a batched mesh.

``RimEquations`` reads every parameter from ``equations.constants[symbol]`` and the BTK
occupancies from ``btk_cns`` / ``btk_peripheral`` when its forms are built. Replacing
those with DG0 functions before the stepper compiles the forms makes each parameter
piecewise constant over the parts: one compiled form serves every batch, whatever
varies between its samples. Nothing here changes the equations themselves.
"""

from __future__ import annotations

import numpy as np

from rimmodel.batch.parts import RadialParts
from rimmodel.config.parameters import ModelConfig, parameter_symbols
from rimmodel.fem import fem
from rimmodel.physics.equations import RimEquations
from rimmodel.pharmacology import occupancy_course

_OCCUPANCIES = ("btk_cns", "btk_peripheral")


class PartwiseEquations:
    """The ``Equations`` protocol for ``BDFStepper``, with per-part parameters and occupancy courses."""

    def __init__(self, parts: RadialParts, configs: list[ModelConfig]):
        self.parts = parts
        self.model = RimEquations(parts.domain.mesh, configs[0], occupancy_course(configs[0]))
        for name in _OCCUPANCIES:
            if not hasattr(self.model, name):
                raise AttributeError(f"RimEquations has no {name!r}: rimmodel.batch needs its occupancies")
        # one vector-valued DG0 function holds every per-part value: DOLFINx packs each coefficient
        # per cell, and one function of 27 components packed in 3.0 ms where 27 scalar functions
        # took 4.6 ms (3000 cells, measured on a loaded machine)
        self.symbols = tuple(self.model.constants)
        names = self.symbols + _OCCUPANCIES
        self.values = fem.Function(fem.functionspace(parts.domain.mesh, ("DG", 0, (len(names),))),
                                   name="per_part_parameters")
        self.model.constants = {symbol: self.values[i] for i, symbol in enumerate(self.symbols)}
        for i, name in enumerate(_OCCUPANCIES, start=len(self.symbols)):
            setattr(self.model, name, self.values[i])
        self.fields = self.model.fields
        self.set_parameters(configs)
        self.set_time(0.0)

    def set_parameters(self, configs: list[ModelConfig]) -> None:
        if len(configs) != self.parts.parts:
            raise ValueError(f"{len(configs)} configs for {self.parts.parts} parts")
        declared = parameter_symbols(type(configs[0]))
        for i, symbol in enumerate(self.symbols):
            section, key, _ = declared[symbol]
            self._fill(i, [float(getattr(getattr(c, section), key)) for c in configs])
        self.occupancies = [occupancy_course(c) for c in configs]

    def set_time(self, t: float) -> None:
        first = len(self.symbols)
        self._fill(first, [o.cns(t) for o in self.occupancies])
        self._fill(first + 1, [o.peripheral(t) for o in self.occupancies])

    def _fill(self, component: int, per_part: list[float]) -> None:
        width = self.values.function_space.dofmap.index_map_bs
        cell_dofs = self.values.function_space.dofmap.list[:, 0]
        self.values.x.array[cell_dofs * width + component] = np.asarray(per_part)[self.parts.part_of_cell]

    def breakpoints(self) -> set[float]:
        """Every part's occupancy changes: the shared time loop lands on all of them."""
        return {t for o in self.occupancies for t in o.breakpoints()}

    def mass(self, du_dt, v, tissue):
        return self.model.mass(du_dt, v, tissue)

    def spatial_residual(self, u, v, tissue):
        return self.model.spatial_residual(u, v, tissue)
