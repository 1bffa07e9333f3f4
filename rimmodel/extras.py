"""Which optional extra of ``pyproject.toml`` brings a missing module: one line instead of a traceback."""

from __future__ import annotations

# top-level module -> the extra that installs it
MODULE_EXTRAS = {
    "dolfinx": "fem", "mpi4py": "fem", "petsc4py": "fem", "ufl": "fem", "basix": "fem", "ffcx": "fem",
    "numba": "fem", "scipy": "fem",
    "gmsh": "geometry", "nilearn": "geometry",
    "nibabel": "mri",
    "SALib": "study",
    "pyvista": "viz", "vtk": "viz", "matplotlib": "viz", "imageio": "viz", "plotly": "viz",
    "jsonschema": "test", "meshio": "test",
}
WHAT = {"fem": "the FEM stack (DOLFINx, PETSc, MPI)", "geometry": "the geometry generators (gmsh, nilearn)",
        "mri": "the synthetic MRI (nibabel)", "study": "parameter studies (SALib)",
        "viz": "rendering (pyvista, matplotlib)", "test": "the test tools"}


def missing_extra_message(error: ModuleNotFoundError, command: str) -> str | None:
    """``None`` if the module is not one an extra provides (then the error is a bug, not an install)."""
    module = (error.name or "").split(".")[0]
    extra = MODULE_EXTRAS.get(module)
    if extra is None:
        return None
    conda = " (or, with conda, environment.yml)" if extra == "fem" else ""
    return (f"`rimmodel {command}` needs {WHAT[extra]}, which this installation lacks (no module {module!r}). "
            f"Install the {extra!r} extra from a clone: pip install -e \".[{extra}]\"{conda}; "
            f"everything: pip install -e \".[all]\"")
