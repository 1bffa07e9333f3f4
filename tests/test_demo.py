"""The demo writes both runs and its two figures (short horizon here; the full one is benchmarked),
and its comparison is what ``rimmodel compare`` draws for the same runs."""

import numpy as np

from rimmodel.cli import main
from rimmodel.demo import run_demo
from rimmodel.io.results import read_run


def test_demo_writes_runs_and_figures(shared_dir, comm):
    outputs = run_demo(shared_dir / "demo", years=1.0, overrides=("geometry.mesh_size=0.25",))
    for name in ("untreated", "btk_0.8"):
        assert read_run(outputs[name]).status == "completed"
    if comm.rank == 0:
        import matplotlib.image

        for figure in ("comparison", "time_series"):
            pixels = matplotlib.image.imread(outputs[figure])
            assert pixels.shape[0] > 200 and pixels.shape[1] > 400
            assert np.std(pixels[..., :3]) > 0.05  # not blank
        comparison = matplotlib.image.imread(outputs["comparison"])[..., :3]
        half = comparison.shape[1] // 2
        assert np.abs(comparison[:, :half] - comparison[:, half:2 * half]).mean() > 1e-3  # arms differ
        compared = shared_dir / "compared"
        assert main(["compare", str(outputs["untreated"]), str(outputs["btk_0.8"]), "--labels", "untreated",
                     "btk_0.8", "--times", "1", "--out", str(compared)]) == 0
        same_time = matplotlib.image.imread(compared / "snapshot_t001.00yr.png")[..., :3]
        assert np.array_equal(comparison, same_time)  # same layers, same colour limits, same pixels
