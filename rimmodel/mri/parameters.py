"""Parameters of the synthetic MRI: acquisition, contrast model and radiological read-out rules.

Intensities are normalised: normal-appearing white matter (NAWM) has T2 = T1 = 1, and the
phase image is the voxel-averaged iron held by microglia/macrophages, T * Fe, in the units of
the run's iron field (1: a rim at capacity that took up all the iron of its myelin), so its
visibility threshold reads directly as a voxel-averaged iron content. For runs without an iron
field the phase image is the activated-microglia density (all taken as iron-laden) and the
threshold reads as a microglial density. Every field is declared with ``param`` (unit, range,
source) and checked on construction with the config's rules, so an error names the field
and its allowed range.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass

from rimmodel.config.spec import ConfigError, check_number, param
from rimmodel.config.table import HEADER, replace_between, table_rows

SECTION = "mri."  # prefix of every key in error messages


@dataclass(frozen=True)
class MRIParameters:
    # --- acquisition ---------------------------------------------------------------------------
    voxel_size: float = param(
        1.0, "mm", "Edge of a (cubic, or in-plane for 2D runs) voxel",
        source="1 mm isotropic 3D FLAIR/T1 as recommended by the MAGNIMS-CMSC-NAIMS 2021 consensus, "
        "Wattjes et al. 2021, Lancet Neurol 20:653 (not re-checked here)", low=0.05, high=10.0)
    slice_thickness: float = param(
        3.0, "mm", "Slice thickness of the single slice made from a 2D run (the section is taken as "
        "uniform across the slice); ignored for 3D runs",
        source="2D clinical slices <= 3 mm (same consensus); Elliott's 10 voxels ~ 30 mm^3 implies "
        "~3 mm^3 voxels", low=0.1, high=20.0)
    supersampling: int = param(
        4, "-", "Sub-points per voxel edge for partial-volume averaging (k^d points per voxel)",
        low=1, high=16)
    margin_voxels: int = param(
        2, "-", "Background voxels added around the tissue's bounding box", low=0, high=50)
    scan_interval: float = param(
        1.0, "yr", "Interval between scans; each scan uses the run output nearest to its time "
        "(0: scan at every output)", source="yearly MRI as in trial follow-up; assumed", low=0.0, high=100.0)
    noise: float = param(0.0, "NAWM units", "Standard deviation of Gaussian noise added to every image",
                         low=0.0, high=10.0)
    seed: int = param(0, "-", "Seed of the noise", low=0, high=2**31 - 1)
    # --- T2/FLAIR: hyperintense where myelin is lost or tissue is inflamed ---------------------
    t2_cortex: float = param(1.15, "NAWM units", "Normal grey matter on T2/FLAIR (slightly above NAWM)",
                             low=0.0, high=10.0)
    t2_background: float = param(0.2, "NAWM units", "CSF/outside tissue on FLAIR (fluid suppressed)",
                                 low=0.0, high=10.0)
    t2_demyelination: float = param(
        0.8, "NAWM units", "Signal added by complete demyelination (water released from myelin)",
        source="assumed: FLAIR lesions are roughly 1.5-2x NAWM", low=0.0, high=10.0)
    t2_inflammation: float = param(
        0.3, "NAWM units", "Signal added by activated microglia at capacity (oedema)", low=0.0, high=10.0)
    cortical_lesion_visibility: float = param(
        0.1, "1", "Fraction of the white-matter lesion contrast that cortical damage shows on T2 and T1",
        source="assumed; conventional T2/FLAIR misses most subpial cortical lesions (Geurts et al. "
        "2005, Radiology 236:254; not re-checked here)", low=0.0, high=1.0)
    t2_lesion_threshold: float = param(
        0.5, "1", "A voxel is T2 lesion when its signal exceeds NAWM by this fraction of "
        "t2_demyelination (0.5: matches the model's myelin threshold of 0.5 in a pure white-matter voxel)",
        low=0.01, high=1.0)
    # --- T1: hypointense where axons and tissue are lost ("black holes") ----------------------
    t1_cortex: float = param(0.8, "NAWM units", "Normal grey matter on T1", low=0.0, high=10.0)
    t1_background: float = param(0.3, "NAWM units", "CSF/outside tissue on T1", low=0.0, high=10.0)
    t1_axon_loss: float = param(0.6, "NAWM units", "Signal lost at complete axon loss (matrix destruction)",
                                source="assumed; T1 black holes track axonal loss (van Walderveen et al. "
                                "1998, Neurology 50:1282; not re-checked here)", low=0.0, high=1.0)
    t1_demyelination: float = param(0.15, "NAWM units", "Signal lost at complete demyelination",
                                    low=0.0, high=1.0)
    black_hole_threshold: float = param(
        0.8, "NAWM units", "T1 at or below this (isointense with grey matter) counts as a black hole",
        low=0.0, high=1.0)
    # --- phase/susceptibility: paramagnetic rim of iron held by microglia/macrophages ---------
    rim_visibility_threshold: float = param(
        0.1, "1", "Voxel-averaged iron T * Fe (units of the iron field) above which the phase rim is "
        "visible; for runs without an iron field, the voxel-averaged activated-microglia density",
        source="rim iron sits in microglia/macrophages and a density threshold for visibility exists, "
        "Dal-Bianco et al. 2017, Acta Neuropathol 133:25 (value assumed: equal to "
        "observables.iron_threshold)", low=0.0, high=10.0)
    prl_edge_width: float = param(
        1.0, "mm", "Width of the band either side of a lesion's border searched for the rim (at least "
        "one voxel)", source="assumed; of the order of the rims' thickness", low=0.0, high=20.0)
    prl_min_rim_voxels: int = param(3, "-", "Fewest rim voxels at a lesion's edge for a PRL",
                                    low=1, high=10000)
    prl_min_edge_coverage: float = param(
        2 / 3, "1", "Fraction of the lesion edge's directions that must show the rim",
        source="reading rule: rim around >= 2/3 of the lesion edge (NAIMS consensus, Bagnato et al. "
        "2024, Brain; not re-checked here)",
        low=0.0, high=1.0)
    # --- new/enlarging T2 lesions between successive scans ------------------------------------
    new_lesion_min_voxels: int = param(
        3, "-", "Smallest new T2 component counted as a new lesion", source="assumed; trials use a "
        "minimum size of ~3 mm in-plane or a few voxels", low=1, high=10000)
    enlarging_fraction: float = param(
        0.2, "1", "Relative volume growth for an enlarging lesion (and enlarging_min_volume)",
        source="assumed; trial conventions vary", low=0.0, high=100.0)
    enlarging_min_volume: float = param(3.0, "mm^3", "Absolute volume growth for an enlarging lesion",
                                        low=0.0, high=1e6)
    # --- SEL: Jacobian expansion of pre-existing lesion (Elliott et al. 2019) -----------------
    sel_scans: int = param(
        3, "-", "Scans per SEL assessment (baseline + follow-ups)",
        source="constant expansion needs >= 2 intervals (Elliott et al. 2019, Mult Scler 25:1915)", low=3, high=100)
    sel_min_expansion_rate: float = param(
        0.04, "1/yr", "Local expansion (Jacobian determinant - 1, per year) every interval must reach",
        source="assumed operationalisation of 'constant local expansion'", low=0.0, high=10.0)
    sel_min_concentricity: float = param(
        0.5, "1", "Displacement-weighted mean cosine between deformation and the outward lesion normal",
        source="assumed operationalisation of 'concentric'", low=-1.0, high=1.0)
    sel_min_voxels: int = param(10, "-", "Fewest contiguous voxels of a SEL",
                                source="Elliott et al. 2019 (>= 10 voxels, ~30 mm^3)", low=1, high=10000)
    registration_iterations: int = param(100, "-", "Demons iterations per scan pair", low=1, high=10000)
    registration_smoothing: float = param(
        1.0, "mm", "Gaussian width regularising the displacement field (in mm, so results do not "
        "depend on the voxel size)", low=0.01, high=20.0)
    # --- hidden damage ------------------------------------------------------------------------
    cortical_disability_weight: float = param(
        1.0, "1", "Weight of cortical relative to white-matter axon loss in the disability proxy",
        low=0.0, high=100.0)
    follicle_exposure_fraction: float = param(
        0.1, "1", "Cortex where the follicle factor exceeds this fraction of its maximum is "
        "'under follicles'", low=0.0, high=1.0)


    def __post_init__(self):
        hints = typing.get_type_hints(MRIParameters)
        for f in dataclasses.fields(self):
            value = check_number(f"{SECTION}{f.name}", getattr(self, f.name), f.metadata["spec"], hints[f.name])
            object.__setattr__(self, f.name, value)  # coerced: 3.0 given for a count becomes 3


def mri_parameters(**overrides) -> MRIParameters:
    """Validated parameters: the defaults with ``overrides``; errors name the field and its range."""
    allowed = [f.name for f in dataclasses.fields(MRIParameters)]
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        raise ConfigError(f"{SECTION}{unknown[0]}: unknown parameter; allowed: {', '.join(allowed)}")
    return MRIParameters(**overrides)


TABLE_BEGIN, TABLE_END = "<!-- mri-parameter-table:begin -->", "<!-- mri-parameter-table:end -->"


def parameter_table() -> str:
    """The Markdown table of docs/mri.md, generated from the declarations (a test keeps the doc current)."""
    return "\n".join(HEADER + table_rows(MRIParameters, MRIParameters()))


def with_table(document: str) -> str:
    """``document`` with the text between the table markers replaced by the current table."""
    return replace_between(document, TABLE_BEGIN, TABLE_END, parameter_table())
