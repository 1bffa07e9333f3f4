"""A leaner SNES residual for problems without Dirichlet conditions, for many small solves.

DOLFINx's ``NonlinearProblem`` residual callback packs every coefficient of the residual
form at every Newton iteration, and then packs the Jacobian form's coefficients again
to apply a Dirichlet lifting, which is empty here (the model has natural boundary
conditions only). On a batch of radial lesions the two packs took 60% of the residual
time (cProfile). This callback skips the lifting, packs all coefficients once per
``solve()`` (where previous states, parameters and occupancies may have changed) and
during the Newton iterations rewrites only the unknown's columns of the packed array,
which is the only coefficient SNES changes. The residual is the same to round-off
(tests/test_batch.py checks it against DOLFINx's own assembly).
"""

from __future__ import annotations

import numpy as np

from rimmodel.fem import PETSc, dolfinx, fem

_CELL, _EXTERIOR_FACET = fem.IntegralType.cell, fem.IntegralType.exterior_facet


class PackedResidual:
    def __init__(self, problem, unknown: fem.Function):
        self.problem, self.unknown, self.form = problem, unknown, problem.F
        coefficients = self.form._cpp_object.coefficients
        widths = [c.function_space.element.space_dimension for c in coefficients]
        offsets = np.concatenate([[0], np.cumsum(widths)])
        (position,) = [i for i, c in enumerate(coefficients) if np.shares_memory(c.x.array, unknown.x.array)]
        self.columns = slice(int(offsets[position]), int(offsets[position + 1]))
        space = unknown.function_space
        bs = space.dofmap.bs
        cell_dofs = (space.dofmap.list[:, :, None] * bs + np.arange(bs)).reshape(space.dofmap.list.shape[0], -1)
        self.packed = fem.pack_coefficients(self.form)
        self.rows = {key: cell_dofs[self._cells(key)] for key in self.packed}
        original_solve = problem.solve

        def solve():
            self.packed = fem.pack_coefficients(self.form)
            return original_solve()

        problem.solve = solve
        problem.solver.setFunction(self, problem.b)

    def _cells(self, key) -> np.ndarray:
        entities = self.form._cpp_object.domains(*key)
        if key[0] == _CELL:
            return entities
        if key[0] == _EXTERIOR_FACET:
            return entities.reshape(-1, 2)[:, 0]
        raise NotImplementedError(f"PackedResidual: {key[0]} integrals")

    def __call__(self, _snes, x, b) -> None:
        dolfinx.la.petsc._ghost_update(x, PETSc.InsertMode.INSERT, PETSc.ScatterMode.FORWARD)
        dolfinx.fem.petsc.assign(x, self.unknown)
        values = self.unknown.x.array
        for key, rows in self.rows.items():
            self.packed[key][:, self.columns] = values[rows]
        with b.localForm() as local:
            local.set(0.0)
        dolfinx.fem.petsc.assemble_vector(b, self.form, coeffs=self.packed)
        b.ghostUpdate(PETSc.InsertMode.ADD, PETSc.ScatterMode.REVERSE)
        b.ghostUpdate(PETSc.InsertMode.INSERT, PETSc.ScatterMode.FORWARD)
