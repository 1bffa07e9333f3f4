"""Named PETSc option sets for the coupled Newton solve, chosen with ``solver.preset``.

``[solver.petsc_options]`` adds to or replaces the chosen preset's options, so a config can
take a preset and still change one option (``ksp_rtol``, say). The measurements behind
``iterative_3d`` are in docs/scaling.md.

* ``direct``: MUMPS LU of the whole monolithic system. Robust and exact, the default for 2D;
  in 3D its fill-in makes factorisation 85% of the time and 4.3 GB per rank already at 173k
  tetrahedra, so it cannot reach a million cells on a workstation.
* ``iterative_3d``: GMRES with an additive fieldsplit of the interlaced block-size-5 system.
  The mediator and follicle factor are screened diffusions (D/k gives 0.5 and 1 mm, many cells
  at 0.1 mm), the part whose Krylov iterations would grow under refinement without a
  multilevel preconditioner: each gets smoothed-aggregation AMG (GAMG; the monolithic system
  crashes it, the scalar blocks do not). Microglia, myelin and axons barely diffuse and are
  coupled pointwise, so one-level additive Schwarz (overlap 1, ILU(0) on each rank) is enough. The Newton
  settings are the same as ``direct``; ``ksp_rtol = 1e-6`` leaves the converged solution to the
  Newton tolerances (1e-4 gave the same Newton counts, measured).
"""

from __future__ import annotations

NEWTON = {
    "snes_type": "newtonls",
    "snes_linesearch_type": "basic",
    "snes_rtol": 1e-10,
    "snes_atol": 1e-11,
    "snes_stol": 1e-10,  # converged once Newton updates stall at round-off
    "snes_max_it": 25,
}

DIRECT = {
    "ksp_type": "preonly",
    "pc_type": "lu",
    "pc_factor_mat_solver_type": "mumps",
}

# Fields are interlaced with block size 5 in the order of rimmodel.physics.equations.FIELDS:
# 0 microglia, 1 mediator, 2 follicle factor, 3 myelin, 4 axons (a test checks the order).
ITERATIVE_3D = {
    "ksp_type": "gmres",
    "ksp_rtol": 1e-6,
    "pc_type": "fieldsplit",
    "pc_fieldsplit_type": "additive",  # as few iterations as multiplicative here, less work each
    "pc_fieldsplit_block_size": 5,
    "pc_fieldsplit_0_fields": "0,3,4",  # microglia, myelin, axons: slow, pointwise coupled
    "pc_fieldsplit_1_fields": "1",      # mediator
    "pc_fieldsplit_2_fields": "2",      # follicle factor
    "fieldsplit_0_ksp_type": "preonly",
    "fieldsplit_0_pc_type": "asm",      # overlap 1: iterations do not grow with the rank count,
    "fieldsplit_0_sub_pc_type": "ilu",  # as they do with block Jacobi (188 -> 197 from 1 to 2 ranks)
    "fieldsplit_1_ksp_type": "preonly",
    "fieldsplit_1_pc_type": "gamg",
    "fieldsplit_2_ksp_type": "preonly",
    "fieldsplit_2_pc_type": "gamg",
}

SOLVER_PRESETS = {"direct": NEWTON | DIRECT, "iterative_3d": NEWTON | ITERATIVE_3D}


def preset_options(name: str) -> dict:
    """A fresh copy of the preset's PETSc options (callers may change it)."""
    return dict(SOLVER_PRESETS[name])
