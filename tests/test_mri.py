"""Synthetic MRI: analytic phantoms of known truth, NIfTI geometry, the command on a stored run."""

import argparse
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from rimmodel.config import ConfigError
from rimmodel.io.results import read_run
from rimmodel.mri import hidden_damage, mri_parameters, radiology_readouts, synthetic_scans
from rimmodel.mri.atrophy import annualised_change, brain_volumes, percent_change_per_year
from rimmodel.mri.cli import READOUTS_CSV, register
from rimmodel.mri.contrasts import REQUIRED_FIELDS
from rimmodel.mri.lesions import black_hole_mask, lesion_extent, lesion_mask
from rimmodel.mri.locate import locate
from rimmodel.mri.nifti import write_scans
from rimmodel.mri.parameters import with_table
from rimmodel.mri.phantoms import ball_volume, box_mesh, lesion_phantom
from rimmodel.mri.prl import assess_rims
from rimmodel.mri.readouts import readout_masks
from rimmodel.mri.sel import detect_sel

SMALL_RUN = Path(__file__).parent / "data" / "small_run"
DEFAULTS = mri_parameters()
# sub-voxel placements of the lesion centre relative to the voxel grid
CENTRES = [(0.0, 0.0, 0.0), (0.3, 0.45, 0.1), (0.5, 0.5, 0.5), (-0.2, 0.1, 0.35)]


def test_p1_fields_are_interpolated_exactly_and_outside_is_found():
    points, cells = box_mesh(2.0, 0.5, 3)
    rng = np.random.default_rng(1)
    probes = rng.uniform(-2.5, 2.5, (2000, 3))
    location = locate(probes, points, cells)
    inside = np.abs(probes).max(axis=1) < 2.0
    assert np.array_equal(location.inside, inside)
    linear = points @ [1.0, -2.0, 0.5] + 3.0
    assert np.allclose(location.interpolate(linear)[inside], probes[inside] @ [1.0, -2.0, 0.5] + 3.0)


@pytest.mark.parametrize("dimension, spacing", [(2, 0.2), (3, 0.5)])
def test_t2_volume_of_a_disc_or_ball_is_right_within_partial_volume_error(dimension, spacing):
    radius, errors = 3.0, []
    for centre in CENTRES:
        centre = centre[:dimension] + (0.0,) * (3 - dimension)
        scans = synthetic_scans(lesion_phantom(dimension, [radius], spacing=spacing, centre=centre), DEFAULTS)
        measured = lesion_mask(scans, 0).sum() * scans.grid.voxel_volume
        true = ball_volume(radius, dimension, DEFAULTS.slice_thickness)
        # partial-volume bound: half of every voxel the surface passes through
        distance = np.linalg.norm((scans.grid.centres() - centre)[:, :dimension], axis=1)
        straddling = np.abs(distance - radius) < np.sqrt(dimension) / 2 * DEFAULTS.voxel_size
        assert abs(measured - true) <= 0.5 * straddling.sum() * scans.grid.voxel_volume
        errors.append(measured / true - 1)
    assert abs(np.mean(errors)) < 0.05, errors  # unbiased over sub-voxel placements


@pytest.mark.parametrize("density, visible", [(0.05, False), (0.3, True)])
def test_phase_rim_is_a_prl_only_above_the_visibility_threshold(density, visible):
    scans = synthetic_scans(lesion_phantom(2, [3.0], rim_density=density), DEFAULTS)
    (lesion,), _ = assess_rims(scans, 0)
    assert lesion.is_prl is visible
    if visible:
        assert lesion.edge_coverage == 1.0 and lesion.rim_phase > lesion.core_phase


def test_uniformly_filled_paramagnetic_lesion_is_not_a_rim():
    phantom = lesion_phantom(2, [3.0])
    phantom.fields["microglia"] = 0.5 * (1.0 - phantom.fields["myelin"])  # microglia fill the lesion
    (lesion,), _ = assess_rims(synthetic_scans(phantom, DEFAULTS), 0)
    assert not lesion.is_prl


def test_uniformly_expanding_lesion_is_a_sel_and_a_static_one_is_not():
    growing = synthetic_scans(lesion_phantom(2, [3.0, 3.3, 3.6]), DEFAULTS)
    static = synthetic_scans(lesion_phantom(2, [3.0, 3.0, 3.0]), DEFAULTS)
    sel = detect_sel(growing, 0)
    assert sel.count == 1 and sel.volume >= DEFAULTS.sel_min_voxels * growing.grid.voxel_volume
    assert sel.expansion_rate > DEFAULTS.sel_min_expansion_rate and sel.concentricity[0] > 0.8
    assert sel.mask[lesion_mask(growing, 0)].mean() > 0.5 and not sel.mask[~lesion_mask(growing, 0)].any()
    none = detect_sel(static, 0)
    assert none.count == 0 and none.volume == 0.0 and none.candidate_volume == 0.0


@pytest.mark.parametrize("seed", [0, 1])
def test_sel_survives_noise_and_noise_alone_makes_no_sel(seed):
    noisy = mri_parameters(noise=0.02, seed=seed)
    assert detect_sel(synthetic_scans(lesion_phantom(2, [3.0, 3.3, 3.6]), noisy), 0).count == 1
    assert detect_sel(synthetic_scans(lesion_phantom(2, [3.0, 3.0, 3.0]), noisy), 0).count == 0


def test_slow_expansion_is_seen_by_sel_before_t2_volume_changes():
    scans = synthetic_scans(lesion_phantom(2, [3.0, 3.1, 3.2]), DEFAULTS)
    table = radiology_readouts(scans)
    assert np.ptp(table["t2_lesion_volume_mm3"]) == 0 and table["new_or_enlarging"][1:].sum() == 0
    assert table["sel_present"][2] == 1


def test_stable_lesion_has_no_new_or_enlarging_lesions_and_a_new_one_is_counted():
    stable = radiology_readouts(synthetic_scans(lesion_phantom(2, [3.0, 3.0, 3.0]), DEFAULTS))
    assert np.isnan(stable["new_or_enlarging"][0]) and np.all(stable["new_or_enlarging"][1:] == 0)
    appearing = radiology_readouts(synthetic_scans(lesion_phantom(2, [0.0, 2.5]), DEFAULTS))
    assert appearing["new_lesions"][1] == 1 and appearing["enlarging_lesions"][1] == 0


def test_lost_tissue_is_fluid_in_every_contrast():
    """A voxel whose tissue fraction is T mixes T of tissue signal with 1 - T of fluid (CSF) signal."""
    core_tissue, core_myelin, core_axons = 0.6, 0.0, 0.5
    phantom = lesion_phantom(2, [3.0], core_tissue=core_tissue, core_myelin=core_myelin, core_axons=core_axons,
                             rim_iron=0.4)
    scans = synthetic_scans(phantom, DEFAULTS)
    centre = tuple(np.argmin(np.abs(axis)) for axis in scans.grid.axes()[:2]) + (0,)
    p = DEFAULTS
    t2_tissue = 1.0 + p.t2_demyelination * (1.0 - core_myelin)
    t1_tissue = 1.0 - p.t1_axon_loss * (1.0 - core_axons) - p.t1_demyelination * (1.0 - core_myelin)
    assert scans.images["t2"][0][centre] == pytest.approx(core_tissue * t2_tissue + (1 - core_tissue) * p.t2_background)
    assert scans.images["t1"][0][centre] == pytest.approx(core_tissue * t1_tissue + (1 - core_tissue) * p.t1_background)
    assert scans.images["phase"][0][centre] == pytest.approx(0.0)  # no iron in the core
    assert scans.state_fields == (*REQUIRED_FIELDS, "tissue", "iron") and scans.phase_source == "iron"


def test_tissue_loss_shrinks_the_flair_lesion_and_darkens_t1():
    """A demyelinated disc of radius 3 mm whose centre (r < 1.8 mm) is resorbed: the FLAIR-thresholded
    volume falls to a ring, while the lesion's outline and its T1 black hole stay."""
    phantom = lesion_phantom(2, [3.0, 3.0, 3.0], core_tissue=1.0)
    centre = np.linalg.norm(phantom.points, axis=1) < 1.8
    for n, resorbed in enumerate([1.0, 0.9, 0.6]):
        phantom.fields["tissue"][n, centre] = resorbed
    scans = synthetic_scans(phantom, DEFAULTS)
    t2 = [lesion_mask(scans, n).sum() for n in range(3)]
    extent = [lesion_extent(scans, n).sum() for n in range(3)]
    holes = [black_hole_mask(scans, n).sum() for n in range(3)]
    assert t2[0] == t2[1] and t2[2] < 0.7 * t2[0]     # T = 0.9 still reads as lesion on FLAIR, 0.6 not
    assert extent[2] == extent[0] and holes[2] >= holes[0]
    table = radiology_readouts(scans)
    assert table["t2_lesion_volume_change_per_yr"][2] < 0 and np.isnan(table["t2_lesion_volume_change_per_yr"][0])


def test_brain_volume_read_from_t1_measures_the_tissue_lost():
    """Tissue lost under intact myelin and axons (no lesion on FLAIR, no intrinsic T1 change): the
    SIENAX-like volume falls by the resorbed volume, as the exact integral on the mesh does."""
    phantom = lesion_phantom(2, [2.5, 2.5, 2.5], core_myelin=1.0, core_axons=1.0, core_tissue=[1.0, 0.8, 0.5])
    scans = synthetic_scans(phantom, DEFAULTS)
    table = radiology_readouts(scans).joined(hidden_damage(phantom, DEFAULTS, scans.times))
    box = (2 * 6.0) ** 2 * DEFAULTS.slice_thickness
    assert table["brain_volume_mm3"][0] == pytest.approx(box)
    assert table["parenchymal_volume_mm3"][0] == pytest.approx(box)
    lost_read = table["brain_volume_mm3"][0] - table["brain_volume_mm3"]
    lost_true = table["tissue_loss_mm3"]
    assert np.allclose(lost_read, lost_true, rtol=0.03), (lost_read, lost_true)
    assert table["pbvc_per_yr"][1] == pytest.approx(100 * (table["brain_volume_mm3"][1] / box - 1))
    assert np.all(table["cortical_volume_mm3"] == 0) and np.all(table["t2_lesion_volume_mm3"] == 0)


def test_percentage_volume_change_is_annualised():
    times, volumes = np.array([0.0, 0.5, 2.5]), np.array([100.0, 99.0, 95.04])
    assert np.allclose(percent_change_per_year(times, volumes)[1:], [-2.0, -2.0])
    assert np.isnan(percent_change_per_year(times, volumes)[0])
    assert annualised_change(times, volumes) == pytest.approx(100 * (0.9504 - 1) / 2.5)


@pytest.mark.parametrize("microglia, iron, is_prl", [(0.0, 0.3, True), (0.3, 0.0, False), (0.3, 0.05, False)])
def test_the_phase_rim_is_iron_not_microglia(microglia, iron, is_prl):
    """Once a run has an iron field the rim is seen where iron is, whatever the microglia do."""
    scans = synthetic_scans(lesion_phantom(2, [3.0], rim_density=microglia, rim_iron=iron, core_tissue=1.0),
                            DEFAULTS)
    (lesion,), _ = assess_rims(scans, 0)
    assert lesion.is_prl is is_prl


def test_iron_in_a_rim_that_lost_tissue_is_diluted_by_the_fluid():
    phantom = lesion_phantom(2, [3.0], rim_iron=0.5, core_tissue=1.0)
    phantom.fields["tissue"] = np.where(phantom.fields["iron"] > 0.25, 0.5, phantom.fields["tissue"])
    half = synthetic_scans(phantom, DEFAULTS).images["phase"][0]
    phantom.fields["tissue"][:] = 1.0
    full = synthetic_scans(phantom, DEFAULTS).images["phase"][0]
    assert half.max() < 0.75 * full.max()


def test_a_run_without_tissue_and_iron_fields_is_scanned_as_before():
    """Run directories written before the tissue and iron fields: T = 1, phase from microglia."""
    scans = synthetic_scans(SMALL_RUN, mri_parameters(scan_interval=0))
    assert scans.state_fields == REQUIRED_FIELDS and scans.phase_source == "microglia"
    from rimmodel.io.field_series import read_fields

    fields = read_fields(SMALL_RUN)
    assert max(scans.images["phase"][-1].max(), 0) <= fields.values("microglia", len(fields.times) - 1).max() + 1e-12
    damage = hidden_damage(SMALL_RUN, DEFAULTS)
    assert np.all(damage["tissue_loss_mm3"] == 0)
    assert np.ptp(damage["parenchymal_volume_mm3"]) == 0
    brain, _ = brain_volumes(scans, 0)
    assert 0 < brain <= damage["parenchymal_volume_mm3"][0] + 1e-9


def test_noise_is_reproducible_from_its_seed():
    phantom = lesion_phantom(2, [3.0])
    noisy = [synthetic_scans(phantom, mri_parameters(noise=0.05, seed=seed)).images["t2"] for seed in (3, 3, 4)]
    assert np.array_equal(noisy[0], noisy[1]) and not np.array_equal(noisy[0], noisy[2])


def test_nifti_images_carry_the_run_coordinates(tmp_path):
    centre = (1.3, -0.7, 0.9)
    scans = synthetic_scans(lesion_phantom(3, [2.5, 2.5], spacing=0.5, centre=centre),
                            mri_parameters(supersampling=2))
    write_scans(scans, tmp_path, readout_masks(scans))
    t2, mask = nib.load(tmp_path / "t2.nii.gz"), nib.load(tmp_path / "t2_lesion_mask.nii.gz")
    assert t2.shape == (*scans.grid.shape, 2)
    assert np.allclose(t2.affine, scans.grid.affine)
    assert t2.header["qform_code"] == 1 and t2.header["sform_code"] == 1
    assert np.allclose(t2.header.get_zooms()[:3], DEFAULTS.voxel_size)
    lesion_voxels = np.argwhere(np.asarray(mask.dataobj)[..., 0] > 0)
    centroid_mm = nib.affines.apply_affine(mask.affine, lesion_voxels).mean(axis=0)
    assert np.allclose(centroid_mm, centre, atol=0.5 * DEFAULTS.voxel_size)
    first_centre = nib.affines.apply_affine(t2.affine, [0, 0, 0])
    assert np.allclose(first_centre, scans.grid.centres()[0])


def test_hidden_damage_matches_the_runs_own_integrals():
    damage = hidden_damage(SMALL_RUN, DEFAULTS)
    run = read_run(SMALL_RUN)
    assert np.allclose(damage["time_yr"], run.time)
    # a 2D run is scanned as a slab of slice_thickness: volume = area x thickness
    assert np.allclose(damage["axon_loss_mm3"], run.observables["axon_loss"] * DEFAULTS.slice_thickness, rtol=1e-6)
    assert np.all((damage["disability_proxy"] >= 0) & (damage["disability_proxy"] <= 1))
    assert np.all(np.diff(damage["axon_loss_fraction"]) >= 0)


def test_parameters_are_validated_with_the_field_and_its_range():
    with pytest.raises(ConfigError, match=r"mri\.voxel_size = -1.0 is out of range: allowed \[0.05, 10\]"):
        mri_parameters(voxel_size=-1.0)
    with pytest.raises(ConfigError, match=r"mri\.sel_min_voxels: expected a whole number"):
        mri_parameters(sel_min_voxels=2.5)
    with pytest.raises(ConfigError, match=r"mri\.voxels: unknown parameter"):
        mri_parameters(voxels=1.0)


def test_mri_command_on_the_stored_run_writes_images_and_table(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["mri", str(SMALL_RUN), "--voxel", "0.5", "--interval", "0.5",
                              "--noise", "0.01", "--seed", "2", "--out", str(tmp_path)])
    assert args.handler(args) == 0
    for name in ("t2", "t1", "phase", "t2_lesion_mask", "prl_rim_mask", "sel_mask"):
        assert nib.load(tmp_path / f"{name}.nii.gz").shape[-1] == 5  # outputs at 0, 0.5, ..., 2 yr
    header = (tmp_path / READOUTS_CSV).read_text().splitlines()[0].split(",")
    assert header[:2] == ["time_yr", "t2_lesion_volume_mm3"] and "disability_proxy" in header
    assert {"brain_volume_mm3", "pbvc_per_yr", "cortical_pbvc_per_yr", "tissue_loss_mm3"} <= set(header)
    out = capsys.readouterr().out
    assert "t2_lesion_volume_mm3 [mm^3]" in out and "pbvc_per_yr [%/yr]" in out
    assert "model (exact parenchymal volume of the scanned tissue): brain 0 %/yr" in out  # no tissue field


@pytest.mark.serial
def test_mri_package_does_not_import_the_fem_stack():
    code = ("import sys, rimmodel.mri, rimmodel.mri.cli, rimmodel.mri.nifti; "
            "assert not {'dolfinx', 'mpi4py', 'petsc4py', 'ufl'} & set(sys.modules), sys.modules.keys()")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_parameter_table_in_the_docs_is_current():
    document = (Path(__file__).parents[1] / "docs" / "mri.md").read_text()
    assert with_table(document) == document, "docs/mri.md: regenerate the table (see its Parameters section)"
