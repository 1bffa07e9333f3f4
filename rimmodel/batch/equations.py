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
from rimmodel.config.parameters import ModelConfig
from rimmodel.physics.equations import PARAMETER_SYMBOLS, RimEquations
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
        self.model.constants = {symbol: parts.per_part_field(np.zeros(parts.parts), name=symbol)
                                for symbol in self.model.constants}
        for name in _OCCUPANCIES:
            setattr(self.model, name, parts.per_part_field(np.zeros(parts.parts), name=name))
        self.fields = self.model.fields
        self.set_parameters(configs)
        self.set_time(0.0)

    def set_parameters(self, configs: list[ModelConfig]) -> None:
        if len(configs) != self.parts.parts:
            raise ValueError(f"{len(configs)} configs for {self.parts.parts} parts")
        for symbol, field in self.model.constants.items():
            section, key = PARAMETER_SYMBOLS[symbol]
            self.parts.per_part_field([float(getattr(getattr(c, section), key)) for c in configs], field=field)
        self.occupancies = [occupancy_course(c) for c in configs]

    def set_time(self, t: float) -> None:
        self.parts.per_part_field([o.cns(t) for o in self.occupancies], field=self.model.btk_cns)
        self.parts.per_part_field([o.peripheral(t) for o in self.occupancies], field=self.model.btk_peripheral)

    def breakpoints(self) -> set[float]:
        """Every part's occupancy changes: the shared time loop lands on all of them."""
        return {t for o in self.occupancies for t in o.breakpoints()}

    def mass(self, du_dt, v, tissue):
        return self.model.mass(du_dt, v, tissue)

    def spatial_residual(self, u, v, tissue):
        return self.model.spatial_residual(u, v, tissue)
