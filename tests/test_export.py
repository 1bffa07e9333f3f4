"""Field outputs other tools open: XDMF in VTK's reader, VTKHDF and VTU/PVD in pyvista and meshio.

Every value read back by another tool is compared with the numbers in fields.h5, read
with plain h5py at the dataset the XDMF names for that field and time.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import meshio
import numpy as np
import pytest
import pyvista as pv

from rimmodel.cli import main
from rimmodel.config import load_config
from rimmodel.io.field_export import export_fields
from rimmodel.io.field_series import read_fields
from rimmodel.simulation import Simulation

STORED_RUN = Path(__file__).parent / "data" / "small_run"  # written before the field file was annotated
FIELDS = ("microglia", "mediator", "follicle_factor", "myelin", "axons")


@pytest.fixture(scope="module")
def run_dir(module_dir, comm):
    """A fresh copy of the stored run, private to each rank (exports write into it)."""
    target = module_dir / f"rank-{comm.rank}" / "run"
    shutil.copytree(STORED_RUN, target)
    return target


def stored_values(run: Path, name: str, index: int) -> np.ndarray:
    series = read_fields(run)
    with h5py.File(run / "fields.h5", "r") as h5:
        return h5[series.dataset_path(name, index)][()].ravel()


def test_vtkhdf_reads_back_in_pyvista_with_every_time_and_field(run_dir):
    path = export_fields(run_dir, "vtkhdf")
    series = read_fields(run_dir)
    reader = pv.get_reader(str(path)).reader  # pyvista's HDFReader wraps vtkHDFReader
    reader.Update()
    assert reader.GetNumberOfSteps() == len(series.times) == 5
    for index, t in enumerate(series.times):
        reader.SetStep(index)
        reader.Update()
        grid = pv.wrap(reader.GetOutput())
        assert reader.GetTimeValue() == pytest.approx(t)
        assert grid.n_points == len(series.points) and grid.n_cells == len(series.cells)
        np.testing.assert_array_equal(grid.points, series.points)
        for name in FIELDS:
            np.testing.assert_array_equal(grid.point_data[name], stored_values(run_dir, name, index))
        np.testing.assert_array_equal(grid.cell_data["tissue"], series.cell_tags)
    assert set(np.unique(series.cell_tags)) == {1, 2}
    with h5py.File(path, "r") as h5:
        assert h5["VTKHDF/PointData/microglia"].attrs["units"] == "1"
        assert h5["VTKHDF/Steps/Values"].attrs["units"] == "yr"


def test_vtu_series_reads_back_in_meshio_and_pyvista(run_dir):
    pvd = export_fields(run_dir, "vtu")
    series = read_fields(run_dir)
    collection = pv.get_reader(str(pvd))
    assert collection.time_values == pytest.approx(list(series.times))
    for index, t in enumerate(series.times):
        collection.set_active_time_value(t)
        grid = collection.read()[0]
        mesh = meshio.read(run_dir / "fields_vtu" / f"fields_{index:06d}.vtu")
        assert mesh.field_data["TimeValue"][0] == pytest.approx(t)
        np.testing.assert_array_equal(mesh.points, series.points)
        (block,) = mesh.cells
        assert block.type == "triangle"
        np.testing.assert_array_equal(block.data, series.cells)
        np.testing.assert_array_equal(mesh.cell_data["tissue"][0], series.cell_tags)
        for name in FIELDS:
            stored = stored_values(run_dir, name, index)
            np.testing.assert_array_equal(mesh.point_data[name], stored)
            np.testing.assert_array_equal(grid.point_data[name], stored)


def test_export_command_names_the_file_and_rejects_an_unknown_format(run_dir, tmp_path, capsys):
    assert main(["export", str(run_dir), "--out", str(tmp_path / "elsewhere")]) == 0
    assert str(tmp_path / "elsewhere" / "fields.vtkhdf") in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["export", str(run_dir), "--format", "vtk"])
    assert main(["export", str(tmp_path / "nowhere")]) == 2
    assert "no run directory" in capsys.readouterr().err


XDMF_READ = """
import sys, numpy as np, pyvista as pv
reader = pv.get_reader(sys.argv[1])
reader.set_active_time_value(reader.time_values[-1])
blocks = reader.read()
np.save(sys.argv[2], np.asarray(blocks["microglia"].point_data["microglia"]))
print(reader.time_values)
"""


@pytest.mark.serial  # starts a Python subprocess: VTK's XDMF reader crashed (SIGSEGV) on DOLFINx's namespace
def test_vtk_xdmf_reader_opens_the_run_directory_fields(run_dir, tmp_path):
    xdmf = run_dir / "fields.xdmf"
    assert 'xmlns:xi="https://' in xdmf.read_text()  # as DOLFINx wrote it: VTK 9.7 crashes on this
    assert main(["export", str(run_dir), "--format", "xdmf"]) == 0
    assert 'xmlns:xi="http://www.w3.org/2001/XInclude"' in xdmf.read_text()
    done = subprocess.run([sys.executable, "-c", XDMF_READ, str(xdmf), str(tmp_path / "m.npy")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "[0.0, 0.5, 1.0, 1.5, 2.0]" in done.stdout
    np.testing.assert_array_equal(np.load(tmp_path / "m.npy"), stored_values(run_dir, "microglia", 4))


def test_a_run_writes_times_units_and_the_w3c_xinclude_namespace(shared_dir):
    config = load_config(None, ("output.progress=false", "time.end=1.0", "time.output_interval=0.5",
                                "geometry.mesh_size=0.4"))
    Simulation(config).run(shared_dir / "run")
    xdmf = shared_dir / "run" / "fields.xdmf"
    assert 'xmlns:xi="http://www.w3.org/2001/XInclude"' in xdmf.read_text()
    series = read_fields(shared_dir / "run")
    assert list(series.times) == [0.0, 0.5, 1.0]
    with h5py.File(shared_dir / "run" / "fields.h5", "r") as h5:
        assert h5["Mesh/mesh/geometry"].attrs["units"] == "mm"
        for name in FIELDS:
            for index, t in enumerate(series.times):
                attrs = h5[series.dataset_path(name, index)].attrs
                assert attrs["time"] == t and attrs["time_units"] == "yr"
                assert attrs["units"] == "1" and attrs["description"]
