"""rimmodel: a reaction-diffusion finite-element model of smouldering MS lesions.

Importing the package does not import the FEM stack: ``rimmodel.io.results``
and the visualisation package work on a laptop with only numpy and h5py.
"""

__version__ = "0.1.0"
