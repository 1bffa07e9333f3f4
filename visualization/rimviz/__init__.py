"""rimviz: look at rimmodel run directories with numpy, h5py, pyvista and matplotlib only.

Never imports dolfinx, mpi4py or petsc4py: results come from the cluster as files.
"""

from rimviz.fields import FieldSeries, read_fields

__all__ = ["FieldSeries", "read_fields"]
