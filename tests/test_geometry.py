"""Geometry generators: tags, measures against exact values, MNI mesh topology, files across ranks."""

import argparse
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from rimmodel.config import ConfigError
from rimmodel.config.geometry_checks import check_geometry, check_lesion_seed
from rimmodel.config.parameters import GeometryParameters, LesionParameters
from rimmodel.fem import MPI
from rimmodel.geometry import CORTEX, OUTER, PIAL, VENTRICLE, WHITE_MATTER, build_domain, read_domain
from rimmodel.geometry.depth import pial_sample_points
from rimmodel.geometry.mesh_cli import register
from rimmodel.geometry.periventricular import tissue_measure
from rimmodel.geometry.quality import jacobian_determinants, quality_report
from rimmodel.geometry.sulcus import pial_height

SULCUS = dict(width=12.0, white_matter_depth=4.5, sulcus_depth=2.0, sulcus_width=0.8, mesh_size=0.4,
              pial_mesh_size=0.2, lesion_mesh_size=0.2)
VENTRICLE_BLOCK = dict(width=6.0, white_matter_depth=4.0, cortex_thickness=2.0, length=1.5,
                       ventricle_radius=1.5, mesh_size=0.5, pial_mesh_size=0.25)
MNI_SLICE = dict(kind="mni_slice", mni_resolution=2, mesh_size=1.0, mni_region_centre=[0.0, -10.0, 0.0],
                 mni_region_size=[200.0, 240.0, 200.0])  # the whole coronal slice: both ventricles
MNI_BLOCK = dict(kind="mni_brain", mni_resolution=2, mesh_size=1.0, mni_region_centre=[26.0, -16.0, 66.0],
                 mni_region_size=[24.0, 16.0, 24.0])
LESION = LesionParameters(centre_x=6.0, depth_below_pia=3.0, radius=0.6)


@pytest.fixture(scope="module")
def sulcus(comm):
    return build_domain(GeometryParameters(kind="cortical_sulcus", **SULCUS), comm, LESION)


@pytest.fixture(scope="module")
def mni_slice(comm):
    return build_domain(GeometryParameters(**MNI_SLICE), comm)


@pytest.fixture(scope="module")
def mni_block(comm):
    return build_domain(GeometryParameters(**MNI_BLOCK), comm)


def total(comm, value):
    return comm.allreduce(value, op=MPI.SUM)


def assert_tags_consistent(domain, facet_tags=(PIAL, OUTER)):
    """Every cell is white matter or cortex; the facet tags are there; pial facets bound cortex."""
    msh, comm = domain.mesh, domain.mesh.comm
    tdim = msh.topology.dim
    owned = msh.topology.index_map(tdim).size_local
    tagged = domain.cell_tags.indices[domain.cell_tags.indices < owned]
    assert total(comm, tagged.size) == domain.global_cell_count()
    assert set(np.unique(domain.cell_tags.values)) <= {WHITE_MATTER, CORTEX}
    for tag in facet_tags:
        assert total(comm, domain.facet_tags.find(tag).size) > 0, tag
    msh.topology.create_connectivity(tdim - 1, tdim)
    facet_cells = msh.topology.connectivity(tdim - 1, tdim)
    cell_tag = np.zeros(msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts, int)
    cell_tag[domain.cell_tags.indices] = domain.cell_tags.values
    pial_cells = [facet_cells.links(f) for f in domain.facet_tags.find(PIAL)]
    assert all(len(cells) == 1 and cell_tag[cells[0]] == CORTEX for cells in pial_cells)


def test_sulcus_section_tags_area_and_pial_length(sulcus):
    params = GeometryParameters(kind="cortical_sulcus", **SULCUS)
    assert_tags_consistent(sulcus)
    report = quality_report(sulcus)
    top = params.white_matter_depth + params.cortex_thickness
    fold = params.sulcus_depth * params.sulcus_width * math.sqrt(2 * math.pi)  # tails beyond the sides < 1e-4
    area = sum(report.tissue_measure.values())
    assert area == pytest.approx(params.width * top - fold, rel=1e-3)
    x = np.linspace(0.0, params.width, 20001)
    arc = np.sum(np.hypot(np.diff(x), np.diff(pial_height(params, x))))
    assert report.surface_measure["pial"] == pytest.approx(arc, rel=2e-3)
    assert report.inverted_cells == 0 and report.quality_min > 0.3


def test_sulcus_seed_is_the_requested_distance_below_the_pia(sulcus):
    centre = sulcus.lesion_centre(LESION.depth_below_pia, LESION.centre_x)
    distance, _ = cKDTree(pial_sample_points(sulcus)[:, :2]).query(centre)
    assert distance == pytest.approx(LESION.depth_below_pia, abs=0.01)
    assert centre[0] == pytest.approx(LESION.centre_x)


def test_cells_are_finer_around_the_lesion(sulcus):
    """lesion_mesh_size 0.2 inside the seeded core, mesh_size 0.4 beyond the refinement ball
    (radius + margin + one cortex thickness of growth) and over 2.5 mm below the pia (y < 2)."""
    msh, comm = sulcus.mesh, sulcus.mesh.comm
    owned = msh.topology.index_map(2).size_local
    corners = msh.geometry.x[msh.geometry.dofmaps[0][:owned]][:, :, :2]
    edge = np.linalg.norm(corners[:, 1] - corners[:, 0], axis=1)
    centre = sulcus.lesion_centre(LESION.depth_below_pia, LESION.centre_x)
    distance = np.linalg.norm(corners.mean(axis=1) - centre, axis=1)
    near = distance < LESION.radius
    far = (distance > LESION.radius + 1.0 + 2.5 + 0.2) & (corners[:, :, 1].max(axis=1) < 2.0)
    assert total(comm, edge[near].sum()) / total(comm, near.sum()) < 0.25
    assert total(comm, edge[far].sum()) / total(comm, far.sum()) > 0.3


def test_sulcus_slab_volume_is_the_section_area_times_length(comm):
    params = GeometryParameters(kind="sulcus_slab", **{**SULCUS, "mesh_size": 0.6, "pial_mesh_size": 0.6},
                                length=1.0)
    domain = build_domain(params, comm)
    assert_tags_consistent(domain)
    report = quality_report(domain)
    fold = params.sulcus_depth * params.sulcus_width * math.sqrt(2 * math.pi)
    section = params.width * (params.white_matter_depth + params.cortex_thickness) - fold
    assert sum(report.tissue_measure.values()) == pytest.approx(section * params.length, rel=2e-3)
    assert report.inverted_cells == 0


@pytest.mark.parametrize("kind, dim", [("periventricular_section", 2), ("periventricular", 3)])
def test_periventricular_block_minus_cavity(comm, kind, dim):
    params = GeometryParameters(kind=kind, **VENTRICLE_BLOCK)
    domain = build_domain(params, comm)
    assert_tags_consistent(domain, (PIAL, VENTRICLE, OUTER))
    report = quality_report(domain)
    exact = tissue_measure(params, dim)
    assert report.tissue_measure["white_matter"] == pytest.approx(exact[WHITE_MATTER], rel=2e-3)
    assert report.tissue_measure["cortex"] == pytest.approx(exact[CORTEX], rel=1e-9)
    wall = math.pi * params.ventricle_radius * (params.length if dim == 3 else 1.0)
    assert report.surface_measure["ventricle"] == pytest.approx(wall, rel=1e-2)
    assert report.inverted_cells == 0


def test_mni_slice_is_one_piece_per_tissue_with_ventricles(mni_slice):
    assert_tags_consistent(mni_slice, (PIAL, VENTRICLE, OUTER))
    assert tissue_pieces(mni_slice) == {WHITE_MATTER: 1, CORTEX: 1}
    assert quality_report(mni_slice).inverted_cells == 0


def test_mni_block_is_one_piece_per_tissue_with_positive_jacobians(mni_block):
    assert_tags_consistent(mni_block)
    assert tissue_pieces(mni_block) == {WHITE_MATTER: 1, CORTEX: 1}
    msh = mni_block.mesh
    corners = msh.geometry.x[msh.geometry.dofmaps[0]]
    determinants = jacobian_determinants(corners)  # every tetrahedron is 1/6 of a 1 mm voxel
    assert determinants.min() == pytest.approx(1.0) and determinants.max() == pytest.approx(1.0)
    report = quality_report(mni_block)
    assert report.quality_min == pytest.approx(report.quality_max)  # all tetrahedra are Kuhn tetrahedra
    assert report.cells % 6 == 0


def test_mni_seed_sits_below_the_pia_in_white_matter(mni_block):
    centre = mni_block.lesion_centre(4.0, 26.0)
    distance, _ = cKDTree(pial_sample_points(mni_block)).query(centre)
    assert distance == pytest.approx(4.0, abs=0.05)
    assert centre[1] == MNI_BLOCK["mni_region_centre"][1]


def tissue_pieces(domain) -> dict[int, int]:
    """Connected pieces of each tissue, cells joined through shared facets (gathered on rank 0)."""
    msh, comm = domain.mesh, domain.mesh.comm
    tdim = msh.topology.dim
    owned = msh.topology.index_map(tdim).size_local
    msh.topology.create_connectivity(tdim, 0)
    local_vertices = msh.topology.connectivity(tdim, 0).array.reshape(-1, tdim + 1)[:owned]
    vertices = msh.topology.index_map(0).local_to_global(local_vertices.ravel()).reshape(-1, tdim + 1)
    tags = np.zeros(owned, dtype=int)
    mine = domain.cell_tags.indices < owned
    tags[domain.cell_tags.indices[mine]] = domain.cell_tags.values[mine]
    gathered = comm.gather((vertices, tags), root=0)
    pieces = None
    if comm.rank == 0:
        cells = np.concatenate([v for v, _ in gathered])
        labels = np.concatenate([t for _, t in gathered])
        pieces = {tag: _pieces(cells[labels == tag]) for tag in (WHITE_MATTER, CORTEX)}
    return comm.bcast(pieces, root=0)


def _pieces(cells: np.ndarray) -> int:
    n, corners = cells.shape
    facets = np.sort(np.concatenate([np.delete(cells, i, axis=1) for i in range(corners)]), axis=1)
    owner = np.tile(np.arange(n), corners)
    order = np.lexsort(facets.T[::-1])
    facets, owner = facets[order], owner[order]
    shared = np.flatnonzero(np.all(facets[1:] == facets[:-1], axis=1))
    graph = coo_matrix((np.ones(shared.size), (owner[shared], owner[shared + 1])), shape=(n, n))
    return connected_components(graph, directed=False)[0]


def mesh_command(arguments: list[str]) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["mesh", *arguments])
    return args.handler(args)


def test_mesh_command_writes_a_file_that_reads_back_the_same(comm, shared_dir):
    path = shared_dir / "block.xdmf"
    assert mesh_command(["periventricular_section", "--size", "0.5", "--out", str(path),
                         "--set", "geometry.ventricle_radius=1.0"]) == 0
    built = build_domain(GeometryParameters(kind="periventricular_section", mesh_size=0.5, ventricle_radius=1.0),
                         comm, LesionParameters())  # the command refines around the default lesion too
    read = read_domain(path, comm)
    assert read.name == "periventricular_section"
    assert read.global_cell_count() == built.global_cell_count()
    assert quality_report(read).tissue_measure == pytest.approx(quality_report(built).tissue_measure)
    assert read.lesion_centre(3.0, 3.0) == pytest.approx(built.lesion_centre(3.0, 3.0))


@pytest.mark.serial
def test_a_mesh_written_on_one_rank_reads_on_two_with_the_same_cell_count(tmp_path):
    path = tmp_path / "mni.xdmf"
    settings = [f"--set=geometry.{key}={value}" for key, value in MNI_BLOCK.items() if key != "kind"]
    assert mesh_command(["mni_brain", "--out", str(path), *settings]) == 0
    serial = read_domain(path, MPI.COMM_SELF)
    script = ("import rimmodel.fem; from rimmodel.geometry import read_domain; from rimmodel.geometry.quality "
              f"import quality_report; r = quality_report(read_domain({str(path)!r})); "
              "import rimmodel.fem as f; f.MPI.COMM_WORLD.rank == 0 and print(r.cells, r.tissue_measure['cortex'])")
    mpirun = Path(sys.executable).parent / "mpirun"
    output = subprocess.run([str(mpirun), "-n", "2", sys.executable, "-c", script], check=True, timeout=300,
                            capture_output=True, text=True).stdout.split()
    assert int(output[0]) == serial.global_cell_count()
    assert float(output[1]) == pytest.approx(quality_report(serial).tissue_measure["cortex"])


@pytest.mark.parametrize("kind, changes, field", [
    ("cortical_sulcus", dict(sulcus_width=2.0), "geometry.sulcus_width"),
    ("cortical_sulcus", dict(sulcus_depth=4.4), "geometry.sulcus_depth"),
    ("periventricular", dict(ventricle_radius=4.4), "geometry.ventricle_radius"),
    ("mni_brain", dict(mni_region_size=[200.0, 200.0]), "geometry.mni_region_size"),
    ("mni_brain", dict(mesh_size=0.05), "geometry.mesh_size"),
])
def test_geometry_that_cannot_be_built_is_refused_naming_the_field(kind, changes, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        check_geometry(GeometryParameters(kind=kind, **changes))


@pytest.mark.parametrize("kind, lesion, field", [
    ("mni_slice", LesionParameters(centre_x=4.0), r"lesion\.centre_x"),
    ("periventricular", LesionParameters(centre_x=4.0, depth_below_pia=6.5), r"inside the ventricle"),
    ("cortical_sulcus", LesionParameters(depth_below_pia=7.5), r"lesion\.depth_below_pia"),
])
def test_lesion_outside_the_geometry_is_refused(kind, lesion, field):
    with pytest.raises(ConfigError, match=field):
        check_lesion_seed(GeometryParameters(kind=kind), lesion)


def test_seed_without_pia_above_it_is_refused(mni_block):
    with pytest.raises(ConfigError, match=r"lesion\.centre_x = 0\.0: no pial surface"):
        mni_block.lesion_centre(3.0, 0.0)


def test_missing_mesh_file_names_the_field(comm, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"geometry\.mesh_file"):
        read_domain(tmp_path / "absent.xdmf", comm)
