"""Which PETSc options a config may pass to the Newton solve.

PETSc options are more than solver settings: a viewer option (``snes_view = "ascii:/any/path"``,
or just ``"binary"``) writes a file wherever it names, ``pc_type = "python"`` with
``pc_python_type`` imports and runs a Python module, ``options_file`` reads more options, and
``-log_view`` / ``-history`` / ``*_dump_*`` write files. A config shared by a colleague must do
none of this, so only what solving needs is allowed: solver and preconditioner types,
tolerances and iteration limits, and the settings of factorisations, fieldsplit, multigrid,
Schwarz/block-Jacobi and the direct-solver packages, also under the sub-solver prefixes
(``fieldsplit_<i>_``, ``sub_``, ``mg_levels_``, ``mg_coarse_``). Monitors and
``*_converged_reason`` may print to standard output (value ``""``) and nowhere else.

``solver.unsafe_petsc_options = true`` passes every option unchecked: it runs arbitrary PETSc
features, so it is only for your own configs (and ``--resume`` refuses it, see rimmodel.cli).
"""

from __future__ import annotations

import re

from rimmodel.config.spec import ConfigError

OPT_IN = "solver.unsafe_petsc_options = true"

# A sub-solver's options are the same options behind its prefix (PETSc's nesting).
SUB_SOLVER_PREFIX = re.compile(r"^(fieldsplit_[a-z0-9]+_|sub_|mg_levels_(\d+_)?|mg_coarse_|redundant_|telescope_)")

SOLVER_OPTION = re.compile(r"^(" + "|".join([
    r"snes_type",
    r"snes_(rtol|atol|stol|max_it|max_funcs|max_fail|max_linear_solve_fail|divergence_tolerance|trtol)",
    r"snes_(lag_jacobian|lag_preconditioner|lag_jacobian_persists|lag_preconditioner_persists)",
    r"snes_(force_iteration|error_if_not_converged|mf_operator|ksp_ew|ksp_ew_[a-z0-9_]+)",
    r"snes_linesearch_(type|damping|max_it|order|minlambda|maxstep|rtol|atol|ltol|norms|keeplambda|alpha)",
    r"ksp_type",
    r"ksp_(rtol|atol|dtol|divtol|max_it|min_it|norm_type|pc_side|initial_guess_nonzero|error_if_not_converged)",
    r"ksp_(reuse_preconditioner|diagonal_scale|diagonal_scale_fix|converged_use_initial_residual_norm)",
    r"ksp_(gmres|fgmres|lgmres|dgmres|pipefgmres|bcgsl|richardson|chebyshev|cg|minres|gcr|tfqmr|fcg)_[a-z0-9_]+",
    r"pc_type",
    r"pc_use_amat",
    r"pc_(factor|fieldsplit|gamg|mg|asm|gasm|bjacobi|pbjacobi|vpbjacobi|hypre|jacobi|sor|eisenstat)_[a-z0-9_]+",
    r"pc_(composite|redundant|telescope|hmg|ml|lu|ilu|icc|cholesky|svd|lsc|patch)_[a-z0-9_]+",
    r"mat_(mumps|superlu|superlu_dist|umfpack|klu|cholmod|strumpack|mkl_pardiso|mkl_cpardiso)_[a-z0-9_]+",
]) + r")$")

# Options that take a PETSc viewer: harmless printing to standard output with the value "".
PRINTING_OPTION = re.compile(r"^(snes|ksp|snes_linesearch|pc_[a-z]+)_(monitor[a-z0-9_]*|converged_reason)$")

# Refused with a specific reason even where a pattern above would match.
REFUSED_NAMES = [
    (re.compile(r"python"), "python types import and run a Python module"),
    (re.compile(r"view"), "viewer options write files"),
    (re.compile(r"dump|draw|save|history|^log_|^options_|debugger|^malloc|^info$|^viewer_"),
     "writes files, opens windows, reads other options or attaches a debugger"),
    (re.compile(r"mumps_icntl_22$"), "MUMPS out-of-core factorisation writes temporary files"),
]
FILE_LIKE_VALUE = re.compile(r"[:/\\~]")


def check_petsc_options(options: dict, unsafe: bool, key: str = "solver.petsc_options") -> None:
    """One-line ConfigError naming the first option outside the policy (none if ``unsafe``)."""
    if unsafe:
        return
    for name, value in options.items():
        rule = _refusal(name, value)
        if rule:
            raise ConfigError(f"{key}.{name} = {value!r}: {rule}; only solver settings are passed to PETSc "
                              f"unless {OPT_IN} (runs arbitrary PETSc features: only for your own configs)")


def _refusal(name: str, value) -> str | None:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        return "an option name is lower-case letters, digits and '_' without the leading '-'"
    for pattern, reason in REFUSED_NAMES:
        if pattern.search(name):
            return reason
    if isinstance(value, str) and value.strip().lower() == "python":
        return "python types import and run a Python module"
    if isinstance(value, str) and FILE_LIKE_VALUE.search(value):
        return "values naming a file or viewer (':', '/', '\\', '~') are refused"
    base = _without_sub_solver_prefixes(name)
    if PRINTING_OPTION.match(base):
        return None if value == "" else 'monitors may print to standard output only (value "")'
    if not SOLVER_OPTION.match(base):
        return ("not a solver setting (allowed: snes/ksp/pc types, tolerances and limits, factor, fieldsplit, "
                "multigrid, Schwarz and direct-solver package options, also behind fieldsplit_<i>_/sub_/mg_ prefixes)")
    return None


def _without_sub_solver_prefixes(name: str) -> str:
    while (match := SUB_SOLVER_PREFIX.match(name)) and match.end() < len(name):
        name = name[match.end():]
    return name
