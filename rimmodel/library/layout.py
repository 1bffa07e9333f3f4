"""The lesion-library file (HDF5), written by ``build_library`` and read by ``LesionLibrary``.

Neither side of this module needs the FEM stack: a library is queried with h5py and scipy.

HDF5 layout (one file, written by rank 0 to a temporary name and renamed when complete):

    attrs                format = "rimmodel-lesion-library", version, study (TOML), created
    parameters           (n, p) sampled values; attrs names, distributions, low, high (JSON)
    times                (t,) yr
    series/<name>        (n, t), attrs units; NaN for failed samples
    status               (n,) "completed" | "failed";  reason  (n,) why a sample failed

Versions: 1 had no ``tissue_loss`` and ``iron_total`` series (still readable: those two are
refused at query time, asking for a rebuild); 2 stores every series of
``rimmodel.batch.observables.PART_SERIES``.
"""

FORMAT, VERSION = "rimmodel-lesion-library", 2

# series a version-2 library holds beyond version 1
SINCE_VERSION_2 = ("tissue_loss", "iron_total")

# what ``rimmodel library query`` prints unless --series says otherwise: the trajectories
# (edge radius, volume, rim, iron, tissue, axon loss)
DEFAULT_QUERY_SERIES = ("lesion_equivalent_radius", "lesion_size", "rim_thickness", "iron_total", "tissue_loss",
                        "axon_loss")
