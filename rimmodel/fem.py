"""The one place the FEM stack is imported, in the order it needs.

* ``h5py`` first: the ``dolfinx-solver-real`` wheel and the ``h5py`` wheel each
  bundle their own HDF5; loading dolfinx's first makes h5py fail with
  "Not a datatype". (conda-forge builds share one HDF5 and do not care.)
* ``mpi4py`` before ``dolfinx``, as dolfinx requires.

Every FEM module of rimmodel imports dolfinx names from here.
"""

import sys

if "dolfinx" in sys.modules and "h5py" not in sys.modules:  # pragma: no cover - depends on caller
    import warnings

    warnings.warn("dolfinx was imported before h5py; with the PyPI wheels h5py may then fail to load. "
                  "Import rimmodel (or h5py) before dolfinx.", RuntimeWarning, stacklevel=2)

import h5py  # noqa: E402,F401  (see module docstring)
from mpi4py import MPI  # noqa: E402
from petsc4py import PETSc  # noqa: E402

import dolfinx  # noqa: E402
import dolfinx.fem.petsc  # noqa: E402,F401
from dolfinx import fem, io, mesh  # noqa: E402

__all__ = ["MPI", "PETSc", "dolfinx", "fem", "io", "mesh"]
