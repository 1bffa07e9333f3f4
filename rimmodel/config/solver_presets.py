"""Named PETSc option sets for the coupled Newton solve, chosen with ``solver.preset``.

``[solver.petsc_options]`` adds to or replaces the chosen preset's options, so a config can
take a preset and still change one option (``ksp_rtol``, say). The measurements behind
``iterative_3d`` are in docs/scaling.md.

* ``direct``: MUMPS LU of the whole monolithic system. Robust and exact, the default for 2D;
  in 3D its fill-in makes factorisation 85% of the time and 4.3 GB per rank already at 173k
  tetrahedra, so it cannot reach a million cells on a workstation.
* ``iterative_3d``: GMRES with an additive fieldsplit of the interlaced system (one block per kind of field).
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

# The split itself (block size, which fields go in which block) is not fixed here: it is derived
# from the fields' declarations when a solver is built (``solver_options``), so a new field cannot
# be mis-split. Each block gets the sub-solver of its kind.
ITERATIVE_3D = {
    "ksp_type": "gmres",
    "ksp_rtol": 1e-6,
    "pc_type": "fieldsplit",
    "pc_fieldsplit_type": "additive",  # as few iterations as multiplicative here, less work each
}

SPLIT_SOLVERS = {
    # overlap 1: iterations do not grow with the rank count, as they do with block Jacobi (188 -> 197, 1 to 2 ranks)
    "pointwise": {"ksp_type": "preonly", "pc_type": "asm", "sub_pc_type": "ilu"},
    "diffusive": {"ksp_type": "preonly", "pc_type": "gamg"},
}

SOLVER_PRESETS = {"direct": NEWTON | DIRECT, "iterative_3d": NEWTON | ITERATIVE_3D}


def preset_options(name: str) -> dict:
    """A fresh copy of the preset's PETSc options (callers may change it)."""
    return dict(SOLVER_PRESETS[name])


def fieldsplit_options(blocks: list[tuple[str, list[int]]], field_count: int) -> dict:
    """PETSc options splitting an interlaced system of ``field_count`` fields into ``blocks``
    ((kind, component indices), e.g. ``FieldSet.split_blocks()``)."""
    covered = sorted(i for _, indices in blocks for i in indices)
    if covered != list(range(field_count)):
        raise ValueError(f"fieldsplit blocks {blocks} must cover components 0..{field_count - 1} once each")
    options = {"pc_fieldsplit_block_size": field_count}
    for number, (kind, indices) in enumerate(blocks):
        options[f"pc_fieldsplit_{number}_fields"] = ",".join(str(i) for i in indices)
        options |= {f"fieldsplit_{number}_{key}": value for key, value in SPLIT_SOLVERS[kind].items()}
    return options


def solver_options(options: dict, blocks: list[tuple[str, list[int]]], field_count: int) -> dict:
    """The options a solve uses: with ``pc_type = fieldsplit``, the split derived from the fields
    under the config's own options (which may tune a block's solver, but not re-split the fields)."""
    options = dict(options)
    if options.get("pc_type") != "fieldsplit":
        return options
    derived = fieldsplit_options(blocks, field_count)
    for key in ("pc_fieldsplit_block_size", *(k for k in derived if k.endswith("_fields"))):
        if key in options and str(options[key]) != str(derived[key]):
            raise ValueError(f"solver.petsc_options.{key} = {options[key]!r} does not match the model's "
                             f"fields ({derived[key]!r}): leave the split to rimmodel")
    return derived | options
