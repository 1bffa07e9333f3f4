"""The lesion-library file (HDF5), written by ``build_library`` and read by ``LesionLibrary``.

Neither side of this module needs the FEM stack: a library is queried with h5py and scipy.

HDF5 layout (one file, written by rank 0 to a temporary name and renamed when complete):

    attrs                format = "rimmodel-lesion-library", version, study (TOML), created
    parameters           (n, p) sampled values; attrs names, distributions, low, high (JSON)
    times                (t,) yr
    series/<name>        (n, t), attrs units; NaN for failed samples
    status               (n,) "completed" | "failed";  reason  (n,) why a sample failed
"""

FORMAT, VERSION = "rimmodel-lesion-library", 1
