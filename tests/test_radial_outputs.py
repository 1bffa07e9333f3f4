"""Radial and axisymmetric runs through the tools that read run directories: synthetic MRI in 3D,
hidden damage with the 3D volume elements, render (section through the centre, radial profiles),
export (a 1D mesh as VTK lines)."""

import math

import numpy as np
import pytest

from rimmodel.config import load_config
from rimmodel.io.field_series import AXISYMMETRIC, SPHERICAL, read_fields, symmetry_of
from rimmodel.mri import hidden_damage, mri_parameters, radiology_readouts, synthetic_scans
from rimmodel.mri.lesions import lesion_mask
from rimmodel.mri.phantoms import EDGE_WIDTH, PhantomFields
from rimmodel.mri.revolution import Revolution

DEFAULTS = mri_parameters()
PARAMS = mri_parameters(voxel_size=0.5, supersampling=2)  # 8 sub-points a voxel: fast enough for a test


def _step(signed_distance):
    return 0.5 * (1.0 + np.tanh(signed_distance / EDGE_WIDTH))


def _lesion_fields(distance: np.ndarray, radius: float) -> dict[str, np.ndarray]:
    """A demyelinated ball of ``radius`` (myelin 0, axons 0.5, tissue 0.9 inside), one output time."""
    inside = _step(radius - distance)
    return {"myelin": (1.0 - inside)[None], "axons": (1.0 - 0.5 * inside)[None],
            "microglia": np.zeros((1, distance.size)), "tissue": (1.0 - 0.1 * inside)[None]}


def radial_phantom(radius: float, outer: float = 4.0, cells: int = 400) -> PhantomFields:
    """A spherical run's fields: a 1D mesh in r (non-uniform, finer at the centre)."""
    r = outer * np.linspace(0.0, 1.0, cells + 1) ** 1.2
    points = np.column_stack([r, np.zeros_like(r), np.zeros_like(r)])
    segments = np.column_stack([np.arange(cells), np.arange(1, cells + 1)])
    return PhantomFields(points, segments, "polyline", np.zeros(1), _lesion_fields(r, radius),
                         np.ones(cells, dtype=int), name="radial phantom")


def axisymmetric_phantom(radius: float, depth: float, width: float = 4.0, height: float = 6.0,
                         spacing: float = 0.1) -> PhantomFields:
    """An axisymmetric run's fields: a triangle mesh of (r, z) in [0, width] x [0, height], a ball
    of ``radius`` centred on the axis ``depth`` below the top."""
    r, z = np.meshgrid(np.linspace(0, width, round(width / spacing) + 1),
                       np.linspace(0, height, round(height / spacing) + 1), indexing="ij")
    points = np.column_stack([r.ravel(), z.ravel(), np.zeros(r.size)])
    index = np.arange(r.size).reshape(r.shape)
    a, b, c, d = index[:-1, :-1].ravel(), index[1:, :-1].ravel(), index[1:, 1:].ravel(), index[:-1, 1:].ravel()
    triangles = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])
    distance = np.hypot(points[:, 0], points[:, 1] - (height - depth))
    phantom = PhantomFields(points, triangles, "triangle", np.zeros(1), _lesion_fields(distance, radius),
                            np.ones(len(triangles), dtype=int), name="axisymmetric phantom")
    phantom.geometry_kind = AXISYMMETRIC
    return phantom


def test_volume_weights_integrate_p1_fields_exactly():
    run = radial_phantom(1.0, outer=3.0, cells=37)
    weights = Revolution(SPHERICAL).vertex_weights(run.points, run.cells)
    assert weights.sum() == pytest.approx(4 / 3 * math.pi * 27, rel=1e-12)
    r = run.points[:, 0]
    assert (weights * r[run.cells]).sum() == pytest.approx(math.pi * 3.0**4, rel=1e-12)  # ∫ r dV
    reversed_cells = run.cells[:, ::-1]  # the vertex order of a cell does not matter
    assert (Revolution(SPHERICAL).vertex_weights(run.points, reversed_cells) * r[reversed_cells]).sum() == \
        pytest.approx(math.pi * 3.0**4, rel=1e-12)
    cylinder = axisymmetric_phantom(1.0, 3.0, width=2.0, height=1.0, spacing=0.25)
    weights = Revolution(AXISYMMETRIC).vertex_weights(cylinder.points, cylinder.cells)
    assert weights.sum() == pytest.approx(math.pi * 4.0, rel=1e-12)
    rho = cylinder.points[:, 0]
    assert (weights * rho[cylinder.cells]).sum() == pytest.approx(2 * math.pi * 8 / 3, rel=1e-12)


def test_a_radial_run_is_scanned_as_a_ball():
    radius = 2.0
    scans = synthetic_scans(radial_phantom(radius), PARAMS)
    assert scans.grid.dimension == 3 and len(set(scans.grid.shape)) == 1
    t2 = scans.images["t2"][0]
    for axis in range(3):  # the ball is centred: the image is symmetric about every mid-plane
        assert np.allclose(t2, np.flip(t2, axis=axis))
    assert np.allclose(t2, np.transpose(t2, (1, 0, 2))) and np.allclose(t2, np.transpose(t2, (2, 1, 0)))
    measured = lesion_mask(scans, 0).sum() * scans.grid.voxel_volume
    true = 4 / 3 * math.pi * radius**3
    assert measured == pytest.approx(true, rel=0.1)
    assert radiology_readouts(scans)["t2_lesion_count"][0] == 1


def test_an_axisymmetric_run_is_scanned_as_a_ball_below_the_pia():
    radius, depth = 2.0, 3.0
    scans = synthetic_scans(axisymmetric_phantom(radius, depth), PARAMS)
    assert scans.grid.dimension == 3
    mask = lesion_mask(scans, 0)
    measured = mask.sum() * scans.grid.voxel_volume
    assert measured == pytest.approx(4 / 3 * math.pi * radius**3, rel=0.1)
    radial = synthetic_scans(radial_phantom(radius), PARAMS)  # the same ball, seen by the other symmetry
    assert measured == pytest.approx(lesion_mask(radial, 0).sum() * radial.grid.voxel_volume, rel=0.05)
    # the lesion sits on the axis (x = z = 0), its centre ``depth`` below the top (the run's y)
    centres = scans.grid.centres()[mask.ravel()]
    assert np.abs(centres[:, [0, 2]].mean(axis=0)).max() < 0.1
    assert centres[:, 1].mean() == pytest.approx(6.0 - depth, abs=0.1)
    assert np.allclose(np.flip(scans.images["t2"][0], axis=0), scans.images["t2"][0])


def test_hidden_damage_of_symmetric_runs_uses_their_volume_elements():
    radius = 2.0
    run = radial_phantom(radius)
    damage = hidden_damage(run, DEFAULTS)
    ball = 4 / 3 * math.pi * radius**3
    assert damage["axon_loss_mm3"][0] == pytest.approx(0.5 * ball, rel=0.01)
    assert damage["tissue_loss_mm3"][0] == pytest.approx(0.1 * ball, rel=0.01)
    assert damage["parenchymal_volume_mm3"][0] == pytest.approx(4 / 3 * math.pi * 4.0**3 - 0.1 * ball, rel=1e-4)
    axisymmetric = hidden_damage(axisymmetric_phantom(1.5, 3.0), DEFAULTS)  # no slice thickness in a revolved run
    assert axisymmetric["axon_loss_mm3"][0] == pytest.approx(0.5 * 4 / 3 * math.pi * 1.5**3, rel=0.02)


def test_a_section_stays_a_section():
    from rimmodel.mri.phantoms import lesion_phantom

    section = lesion_phantom(2, [1.0])
    assert symmetry_of(section) is None
    section.geometry_kind = "cortical_section"
    assert symmetry_of(section) is None


@pytest.fixture(scope="module")
def spherical_run(module_dir, comm):
    from rimmodel.simulation import Simulation

    config = load_config(None, ['geometry.kind="spherical_lesion"', "geometry.outer_radius=4.0",
                                "geometry.mesh_size=0.2", "time.end=2.0", "time.dt=0.5", "time.output_interval=0.5",
                                "output.progress=false", "output.checkpoints=false"])
    run_dir = module_dir / "spherical"
    Simulation(config, comm).run(run_dir)
    return run_dir


def test_mri_of_a_radial_run_directory_matches_its_own_integrals(spherical_run):
    from rimmodel.io.results import read_run

    fields = read_fields(spherical_run)
    assert fields.geometry_kind == SPHERICAL and fields.cell_type == "polyline"
    scans = synthetic_scans(spherical_run, DEFAULTS)
    assert scans.grid.dimension == 3 and scans.phase_source == "iron"
    damage = hidden_damage(spherical_run, DEFAULTS, scans.times)
    run = read_run(spherical_run)
    for name in ("axon_loss", "tissue_loss", "parenchymal_volume"):
        model = np.interp(scans.times, run.time, run.observables[name])
        assert damage[f"{name}_mm3"] == pytest.approx(model, rel=1e-6, abs=1e-9), name
    lesion = np.interp(scans.times, run.time, run.observables["lesion_size"])
    t2 = radiology_readouts(scans)["t2_lesion_volume_mm3"]
    assert np.all(t2 > 0) and np.all(t2 < 3 * lesion)  # the 1-mm scan sees the ~1-mm lesion, coarsely


def test_mri_command_on_a_radial_run(spherical_run, tmp_path, capsys):
    import nibabel as nib

    from rimmodel.cli import main

    assert main(["mri", str(spherical_run), "--out", str(tmp_path / "mri")]) == 0
    assert "scans on a 12x12x12 grid" in capsys.readouterr().out
    assert nib.load(tmp_path / "mri" / "t2.nii.gz").shape == (12, 12, 12, 3)


def test_export_writes_a_radial_run_as_lines(spherical_run, tmp_path):
    import meshio

    from rimmodel.io.field_export import export_fields

    pvd = export_fields(spherical_run, "vtu", tmp_path)
    first = meshio.read(sorted((pvd.parent / "fields_vtu").glob("*.vtu"))[0])
    assert [block.type for block in first.cells] == ["line"]
    assert first.points[:, 0].max() == pytest.approx(4.0)
    assert np.allclose(first.point_data["myelin"], read_fields(spherical_run).values("myelin", 0))


@pytest.mark.serial
def test_render_of_symmetric_runs(spherical_run, tmp_path, capsys):
    """Section through the centre and radial profiles (off-screen pyvista: rank-local, so serial)."""
    from PIL import Image

    from rimmodel.cli import main
    from rimviz.fields import read_fields as read_drawn
    from rimviz.symmetric_section import drawable

    section = read_drawn(spherical_run)
    run = read_fields(spherical_run)
    assert section.cell_type == "triangle"
    assert np.allclose(np.linalg.norm(section.points, axis=1), run.points[section.source, 0])
    assert np.allclose(section.values("myelin", 2), run.values("myelin", 2)[section.source])
    phantom = axisymmetric_phantom_series()
    mirrored = drawable(phantom)
    assert mirrored.points[:, 0].min() == pytest.approx(-4.0) and len(mirrored.cells) == 2 * 2 * 40 * 60
    assert len(np.unique(mirrored.points.round(9), axis=0)) == len(mirrored.points)  # the axis nodes are shared
    assert np.allclose(mirrored.values("myelin", 0), phantom.values("myelin", 0)[mirrored.source])
    assert np.allclose(np.abs(mirrored.points[:, 0]), phantom.points[mirrored.source, 0])
    assert main(["render", str(spherical_run), "--out", str(tmp_path), "--times", "0", "2"]) == 0
    written = capsys.readouterr().out.split()
    assert [p.rsplit("/", 1)[1] for p in written] == ["snapshot_t000.00yr.png", "snapshot_t002.00yr.png",
                                                     "radial_profiles.png"]
    image = np.asarray(Image.open(tmp_path / "snapshot_t002.00yr.png").convert("L"), dtype=float)
    assert image.std() > 10  # drawn, not blank


def axisymmetric_phantom_series():
    phantom = axisymmetric_phantom(1.5, 3.0)
    phantom.geometry_kind = AXISYMMETRIC
    return phantom


def test_the_report_samples_symmetric_sections():
    """The HTML report rasterises a section with matplotlib's triangulation (no duplicate points allowed)."""
    from rimviz.layers import Layer
    from rimviz.section_view import _raster_axes, _sampler
    from rimviz.symmetric_section import drawable

    myelin = Layer("myelin", "myelin", "viridis", (0.0, 1.0), "myelin")
    for run in (radial_phantom(2.0, cells=40), axisymmetric_phantom_series()):
        section = drawable(run)
        x, y = _raster_axes(section)
        raster = _sampler(section, x, y)(myelin, 0)
        centre = raster[np.argmin(np.abs(y - (0.0 if run.cell_type == "polyline" else 3.0))), np.argmin(np.abs(x))]
        assert centre == pytest.approx(0.0, abs=0.05)  # demyelinated at the lesion centre
        assert np.nanmax(raster) == pytest.approx(1.0, abs=0.01)
