"""Lesion libraries: radial-lesion trajectories over a parameter box, stored in HDF5, and an emulator
that answers queries inside the box without solving (docs/radial.md)."""
