"""The model's parameters, grouped as in the TOML config, with units and sources.

Units throughout: length in mm, time in years (yr), densities normalised
(activated microglia as a fraction of local carrying capacity, myelin and axons
as the intact fraction, mediators in units of their half-saturation scale).
Sources are given in short form; full references are in ``docs/model.md``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from rimmodel.config.solver_presets import SOLVER_PRESETS, preset_options
from rimmodel.config.spec import Spec, param
from rimmodel.config.treatment import TreatmentParameters

DAYS_PER_YEAR = 365.25
# where the calibrated defaults come from (posterior medians of the project's calibration)
_RADIAL_CALIBRATION = (
    "of `rimmodel calibrate experiments/calibration/literature_radial.toml` (docs/calibration.md; six targets: "
    "PRL lifetime, Absinta et al. 2021 Nature ED Fig. 1; PRL conversion 37/93, Clark et al. 2023 Ann Neurol "
    "94:736; QSM rim formation 16/32, Zhang et al. 2019 AJNR 40:987; chronic/early susceptibility, Chen et al. "
    "2014 Radiology 271:183; SEL edge advance; black holes, Tagge et al. 2022, not met)")


GEOMETRY_KINDS = ("cortical_section", "cortical_slab", "cortical_sulcus", "sulcus_slab",
                  "periventricular_section", "periventricular", "mni_slice", "mni_brain", "file",
                  "spherical_lesion", "axisymmetric_lesion")


@dataclass
class GeometryParameters:
    """The tissue geometry: built-in sections, gmsh shapes, MNI152-derived meshes or a mesh file.

    Sections (``cortical_*``, ``sulcus*``, ``periventricular*``) are ``width`` wide with the pia
    on top (y = white_matter_depth + cortex_thickness); ``mni_*`` meshes live in MNI152 millimetres.
    """

    kind: str = param("cortical_section", "-", "Geometry generator: 2D sections (cortical_section, "
                      "cortical_sulcus, periventricular_section, mni_slice), 3D (cortical_slab, sulcus_slab, "
                      "periventricular, mni_brain), a mesh written by `rimmodel mesh` (file), or bodies of revolution "
                      "(docs/radial.md): an isolated lesion in a ball of white matter as a 1D radial mesh "
                      "(spherical_lesion), a lesion beneath the pia on the axis of a cylinder of width "
                      "(its radius) as an r-z section (axisymmetric_lesion)",
                      choices=GEOMETRY_KINDS)
    width: float = param(8.0, "mm", "Width of the section along the pial surface", low=1.0, high=200.0)
    white_matter_depth: float = param(4.5, "mm", "Thickness of the white matter below the cortex",
                                      low=0.5, high=100.0)
    cortex_thickness: float = param(
        2.5, "mm", "Thickness of the cortical ribbon (pial surface on top)",
        source="Fischl & Dale 2000, PNAS 97:11050 (mean human cortical thickness ~2.5 mm)",
        low=0.5, high=6.0)
    length: float = param(4.0, "mm", "Extent along z of the 3D shapes (cortical_slab, sulcus_slab, "
                          "periventricular)", low=0.1, high=200.0)
    mesh_size: float = param(0.16, "mm", "Target cell size (mni_*: voxel edge of the resampled tissue maps)",
                             low=0.005, high=5.0)
    pial_mesh_size: float = param(
        0.1, "mm", "Cell size at the pial surface and the ventricle wall (gmsh shapes); cells grow to "
        "mesh_size over one cortex thickness", source="numerical setting", low=0.005, high=5.0)
    lesion_mesh_size: float = param(
        0.1, "mm", "Cell size around the seeded lesion (gmsh shapes), out to lesion.radius + "
        "lesion_refinement_margin from its centre", source="numerical setting", low=0.005, high=5.0)
    lesion_refinement_margin: float = param(
        1.0, "mm", "How far beyond the seeded core the lesion refinement reaches (room for expansion)",
        source="numerical setting", low=0.0, high=100.0)
    sulcus_depth: float = param(
        3.0, "mm", "Depth of each sulcus below the crowns (cortical_sulcus, sulcus_slab)",
        source="assumed (shallow; human sulci are typically 5-20 mm deep)", low=0.0, high=50.0)
    sulcus_width: float = param(
        0.8, "mm", "Standard deviation of the Gaussian sulcus profile of the pia", low=0.1, high=50.0)
    sulcus_count: int = param(1, "-", "Number of sulci, evenly spaced along the width", low=1, high=20)
    ventricle_radius: float = param(
        1.5, "mm", "Radius of the half-cylinder ventricle cut into the bottom of the white matter "
        "(periventricular shapes, centred at width/2)", low=0.1, high=50.0)
    mni_resolution: int = param(
        2, "mm", "Voxel size of nilearn's MNI152 (2009) tissue templates the mni_* meshes are cut from: 1 or 2",
        source="Fonov et al. 2011, NeuroImage 54:313 (ICBM 2009 templates, shipped with nilearn)",
        low=1, high=2)
    mni_region_centre: list[float] = param(
        None, "mm", "Centre [x, y, z] (MNI mm) of the box cut out of the brain (mni_slice: the slice "
        "passes through it)", factory=lambda: [26.0, -16.0, 58.0], low=-150.0, high=150.0)
    mni_region_size: list[float] = param(
        None, "mm", "Extent [x, y, z] of the box cut out of the brain (200 or more: whole brain)",
        factory=lambda: [40.0, 40.0, 40.0], low=1.0, high=300.0)
    mni_slice_axis: str = param("y", "-", "Normal of the mni_slice plane: x sagittal, y coronal, z axial",
                                choices=("x", "y", "z"))
    mesh_file: str = param("", "-", "XDMF mesh with cell and facet tags written by `rimmodel mesh` "
                           "(kind 'file'); read distributed over the ranks", source="numerical setting")
    outer_radius: float = param(
        10.0, "mm", "Radius of the ball of white matter around an isolated lesion (spherical_lesion); "
        "no-flux wall there, so keep it well beyond the lesion's reach", source="numerical setting",
        low=0.5, high=200.0)


@dataclass
class LesionParameters:
    """The seeded chronic lesion: a demyelinated core with an active edge."""

    centre_x: float = param(4.0, "mm", "Horizontal position of the lesion centre", low=-1e3, high=1e3)
    depth_below_pia: float = param(
        3.6, "mm", "Depth of the lesion centre below the pial surface (juxtacortical by default: "
        "the edge sits just below the grey-white junction)", low=0.0, high=1e3)
    radius: float = param(1.0, "mm", "Initial radius of the demyelinated core", low=0.05, high=100.0)
    edge_width: float = param(0.1, "mm", "Width of the smooth edge of the seeded core", low=0.01, high=10.0)
    core_myelin: float = param(0.05, "1", "Intact myelin fraction left in the core", low=0.0, high=1.0)
    core_microglia: float = param(0.6, "1", "Activated microglia in the seeded lesion (acute phase)",
                                  low=0.0, high=1.0)
    core_axons: float = param(0.8, "1", "Intact axon fraction in the seeded core", low=0.0, high=1.0)
    core_tissue: float = param(
        1.0, "1", "Parenchymal volume fraction in the seeded core (1: a recent lesion whose debris is not yet "
        "resorbed)", low=0.0, high=1.0)
    core_iron: float = param(0.0, "1", "Iron held by microglia/macrophages in the seeded core", low=0.0, high=10.0)


@dataclass
class MicrogliaParameters:
    """Activated microglia/macrophages m (fraction of carrying capacity)."""

    diffusivity: float = param(
        0.05, "mm^2/yr", "Random motility D_m of activated microglia (chronic rims are near sessile; "
        "acute-model values, 0.095 mm^2/day, would move the edge ~1000x too fast)",
        source="assumed; acute value in Lombardo et al. 2017 (J Math Biol 75:373) as coded in "
        "NeuroImmunoModel", low=0.0, high=1e3, symbol="D_m")
    chemotactic_sensitivity: float = param(
        0.1, "mm^2/yr", "Chemotactic sensitivity chi toward the mediator gradient (volume filling m(1-m))",
        source="structure: Khonsari & Calvez 2007, PLoS ONE 2:e150; value assumed", low=0.0, high=1e4, symbol="chi")
    activation_rate: float = param(
        2.2, "1/yr", "Maximal activation/proliferation rate r_m driven by inflammatory signals",
        low=0.0, high=1e4, symbol="r_m")
    basal_growth_rate: float = param(
        0.0, "1/yr", "Signal-independent logistic growth r_0 (0 in the disease model; used for the "
        "Fisher-KPP verification limit)", low=0.0, high=1e4, symbol="r_0")
    half_saturation: float = param(1.0, "1", "Signal level K_s giving half-maximal activation",
                                   low=1e-6, high=1e3, symbol="K_s")
    resting_pool: float = param(
        0.005, "1", "Resting microglia available for activation, sigma_0 (fraction of capacity)",
        low=0.0, high=1.0, symbol="sigma_0")
    deactivation_rate: float = param(
        0.4532, "1/yr", "Return to the resting state / death, delta_m; sets rim burn-out once the "
        "myelin fuel is gone", source="calibrated: posterior median, 90 % 0.296-0.612 /yr (prior loguniform "
        "0.2-1 /yr), " + _RADIAL_CALIBRATION, low=0.0, high=1e4, symbol="delta_m")
    follicle_weight: float = param(0.5, "1", "Weight w_f of follicle factors in microglial activation",
                                   low=0.0, high=1e3, symbol="w_f")


@dataclass
class MediatorParameters:
    """Inflammatory mediators c, produced at the demyelinating edge."""

    diffusivity: float = param(
        1.2e3, "mm^2/yr", "Effective diffusivity D_c in the extracellular space",
        source="[derived] D_free ~1e-6 cm^2/s for a 17-50 kDa protein divided by lambda^2 = 2.6, "
        "Sykova & Nicholson 2008, Physiol Rev 88:1277", low=1e-6, high=1e6, symbol="D_c")
    decay_rate: float = param(
        5.0e3, "1/yr", "Clearance/decay rate k_c (half-life ~1.2 h); with D_c, L_c = sqrt(D_c/k_c) = 0.49 mm",
        low=1e-6, high=1e7, symbol="k_c")
    debris_production: float = param(
        7.5e4, "1/yr", "Production p_c by activated microglia engulfing myelin (proportional to "
        "m * myelin * myelin content)", low=0.0, high=1e8, symbol="p_c")
    debris_release: float = param(
        0.0, "1/yr", "Release p_d by destroyed myelin, proportional to rho (1 - myelin): the attractant of "
        "Khonsari & Calvez 2007 (made by destroyed oligodendrocytes). 0 switches it off (the default)",
        source="structure: Khonsari & Calvez 2007, PLoS ONE 2:e150; value assumed", low=0.0, high=1e8,
        symbol="p_d")
    microglial_production: float = param(
        0.0, "1/yr", "Myelin-independent production p_m by activated microglia", low=0.0, high=1e8, symbol="p_m")


@dataclass
class FolliclePatch:
    """A meningeal B-cell follicle: a Gaussian patch of flux density on the pia."""

    centre: list[float] = param(None, "mm", "Patch centre (a point on or near the pial surface)",
                                factory=lambda: [2.0, 7.0])
    width: float = param(0.8, "mm", "Standard deviation of the patch along the surface", low=1e-3, high=1e3)
    density: float = param(1.0, "1", "Relative follicle density at the patch centre", low=0.0, high=100.0)


@dataclass
class FollicleParameters:
    """Follicle-derived factors f entering through the pial boundary."""

    diffusivity: float = param(
        1.2e3, "mm^2/yr", "Effective diffusivity D_f", source="as mediator diffusivity (Sykova & "
        "Nicholson 2008)", low=1e-6, high=1e6, symbol="D_f")
    decay_rate: float = param(
        1.2e3, "1/yr", "Decay k_f; with D_f it sets the penetration length L_f = sqrt(D_f/k_f) = 1 mm",
        source="assumed; gradient of damage from the pia, Magliozzi et al. 2010, Ann Neurol 68:477 "
        "(length scale not retrieved)", low=1e-6, high=1e7, symbol="k_f")
    pial_flux: float = param(
        400.0, "mm/yr", "Flux q_0 into the tissue through the pia under a follicle of density 1",
        low=0.0, high=1e8, symbol="q_0")
    patches: list[FolliclePatch] = param(
        None, "-", "Follicle patches along the pial surface (none: no follicles)",
        source="follicles adjacent to subpial lesions in 41% of SPMS, Magliozzi et al. 2007, Brain 130:1089",
        factory=lambda: [FolliclePatch(centre=[1.5, 7.0]), FolliclePatch(centre=[6.5, 7.0], density=0.7)])


@dataclass
class MyelinParameters:
    """Myelin y (intact fraction)."""

    microglial_damage_rate: float = param(
        2.911, "1/yr", "Demyelination by activated microglia, k_ym",
        source="calibrated: posterior median, 90 % 1.93-3.83 /yr (prior loguniform 0.5-4 /yr: the upper bound "
        "limits it), " + _RADIAL_CALIBRATION, low=0.0, high=1e4, symbol="k_ym")
    follicle_damage_rate: float = param(0.15, "1/yr", "Demyelination by follicle factors, k_yf",
                                        low=0.0, high=1e4, symbol="k_yf")
    remyelination_rate: float = param(0.0, "1/yr", "Slow remyelination where microglia are quiet, k_r",
                                      low=0.0, high=1e3, symbol="k_r")
    cortical_content: float = param(
        0.4, "1", "Myelin content of cortex relative to white matter (scales debris-driven mediator "
        "production)", source="assumed (cortex is lightly myelinated)", low=0.0, high=1.0, symbol="rho_ctx")


@dataclass
class AxonParameters:
    """Axons a (intact fraction): slow-burn damage."""

    microglial_damage_rate: float = param(0.08, "1/yr", "Axonal injury by activated microglia, k_am",
                                          low=0.0, high=1e4, symbol="k_am")
    follicle_damage_rate: float = param(0.05, "1/yr", "Axonal/neuritic injury by follicle factors, k_af",
                                        low=0.0, high=1e4, symbol="k_af")
    demyelination_amplification: float = param(
        2.0, "1", "Extra vulnerability gamma of demyelinated axons to inflammation",
        source="assumed; axonal injury tracks inflammation, Frischer et al. 2009, Brain 132:1175",
        low=0.0, high=1e3, symbol="gamma")
    demyelinated_degeneration_rate: float = param(
        0.02, "1/yr", "Degeneration k_ad of chronically demyelinated axons without inflammation",
        low=0.0, high=1e3, symbol="k_ad")


@dataclass
class TissueParameters:
    """Parenchymal volume fraction T: destroyed myelin and axons are resorbed and replaced by fluid."""

    resorption_rate: float = param(
        0.3, "1/yr", "Rate k_T at which tissue relaxes to what its intact myelin and axons leave (debris "
        "clearance, years)", source="assumed; T1 hypointensity develops over months to years inside "
        "lesions, Absinta et al. 2016 (J Clin Invest 126:2597), Elliott et al. 2019 (Mult Scler 25:1915)",
        low=0.0, high=1e3, symbol="k_T")
    myelin_volume_fraction: float = param(
        0.3, "1", "Share phi_y of white-matter volume that is myelin (lost once demyelinated and cleared)",
        source="assumed", low=0.0, high=1.0, symbol="phi_y")
    axon_volume_fraction: float = param(
        0.3, "1", "Share phi_a of tissue volume that is axons/neurites (lost once they degenerate)",
        source="assumed", low=0.0, high=1.0, symbol="phi_a")


@dataclass
class IronParameters:
    """Iron held by microglia/macrophages (the paramagnetic rim on phase/QSM)."""

    uptake_yield: float = param(
        1.0, "1", "Iron iota taken up per unit of myelin destroyed where microglia are at capacity "
        "(iron is held in oligodendrocytes and myelin)", source="assumed; rim iron sits in microglia/"
        "macrophages, Dal-Bianco et al. 2017, Acta Neuropathol 133:25", low=0.0, high=1e3, symbol="iota")
    uptake_half_saturation: float = param(
        0.1, "1", "Microglial density K_Fe at which half the released iron is taken up (the rest is "
        "cleared)", source="assumed", low=1e-6, high=10.0, symbol="K_Fe")
    clearance_rate: float = param(
        1.9, "1/yr", "Loss lambda_Fe of iron from microglia/macrophages (how fast an iron rim fades once "
        "activity stops)", source="calibrated: posterior median, 90 % 1.23-2.82 /yr (prior loguniform 0.1-3 /yr), "
        + _RADIAL_CALIBRATION, low=0.0, high=1e3, symbol="lambda_Fe")


@dataclass
class OccupancyStep:
    """From ``start`` on, BTK occupancy is as given (piecewise constant)."""

    start: float = param(0.0, "yr", "Time the occupancy level starts", low=0.0, high=1e4)
    cns: float = param(0.0, "1", "CNS (microglial) BTK occupancy", low=0.0, high=1.0)
    peripheral: float = param(0.0, "1", "Peripheral (B-cell) BTK occupancy", low=0.0, high=1.0)


@dataclass
class BTKParameters:
    """BTK inhibition as occupancy with separate microglial and B-cell effects."""

    cns_occupancy: float = param(0.0, "1", "Constant CNS occupancy (used when no schedule)", low=0.0, high=1.0)
    peripheral_occupancy: float = param(0.0, "1", "Constant peripheral occupancy (used when no schedule)",
                                        low=0.0, high=1.0)
    schedule: list[OccupancyStep] = param(
        None, "-", "Piecewise-constant occupancy steps; overrides the constants", factory=list)
    microglial_efficacy: float = param(
        0.3, "1", "Fraction of microglial activation/proliferation blocked at full CNS occupancy",
        source="assumed; BTK acts downstream of FcR/TLR in microglia, Geladaris et al. 2024, "
        "Acta Neuropathol 147:75", low=0.0, high=1.0, symbol="E_m")
    bcell_efficacy: float = param(
        0.9, "1", "Fraction of follicle B-cell output blocked at full peripheral occupancy",
        source="assumed; BTK is required for BCR signalling in B cells", low=0.0, high=1.0, symbol="E_B")


@dataclass
class TimeParameters:
    end: float = param(10.0, "yr", "Simulated duration", low=1e-6, high=1e3)
    dt: float = param(0.1, "yr", "Target time step (36.5 days)", low=1e-6, high=10.0)
    dt_min: float = param(1e-5, "yr", "Smallest step before a run is declared failed", low=1e-12, high=1.0)
    output_interval: float = param(0.5, "yr", "Interval between field/observable outputs", low=1e-6, high=1e3)
    scheme: str = param("bdf2", "-", "Implicit multistep scheme (variable-step BDF)", choices=("bdf1", "bdf2"))


@dataclass
class DiscretisationParameters:
    degree: int = param(1, "-", "Lagrange polynomial degree", low=1, high=3)
    mass_lumping: bool = param(
        True, "-", "Vertex quadrature for mass and reactions (P1 only): keeps densities non-negative",
        choices=(True, False))


def default_petsc_options() -> dict:
    return preset_options("direct")


@dataclass
class SolverParameters:
    preset: str = param("direct", "-", "Named PETSc option set (rimmodel/config/solver_presets.py): "
                        "direct (MUMPS LU) or iterative_3d (GMRES + fieldsplit AMG/Schwarz-ILU, for large 3D "
                        "meshes; docs/scaling.md)", choices=tuple(SOLVER_PRESETS))
    petsc_options: dict = param(None, "-", "PETSc options for the coupled Newton solve: the preset's, "
                                "with the options given here added or replaced; solver settings only "
                                "(rimmodel/config/petsc_policy.py)", factory=default_petsc_options)
    unsafe_petsc_options: bool = param(
        False, "-", "Pass solver.petsc_options to PETSc unchecked (viewers, monitors to files, python "
        "preconditioners...): runs arbitrary PETSc features, only for your own configs", choices=(True, False))
    negativity_tolerance: float = param(
        1e-6, "1", "A step whose densities fall below minus this is rejected and retried",
        low=0.0, high=1.0)
    jacobian_reuse: int = param(
        10, "-", "Newton iterations one factorised Jacobian serves, across time steps (chord-Newton; "
        "0 = a fresh Jacobian every iteration). Converged solutions do not depend on it",
        source="measured: 3.4-4.2x faster reference runs (README.md, Benchmark)", low=0, high=10000)


@dataclass
class ObservableParameters:
    myelin_threshold: float = param(0.5, "1", "Myelin below this counts as lesion", low=0.0, high=1.0)
    microglia_threshold: float = param(0.1, "1", "Activated microglia above this (outside the lesion) "
                                       "count as rim", low=0.0, high=1.0)
    depth_bins: int = param(10, "-", "Bins of the cortical damage profile against depth", low=1, high=1000)
    iron_threshold: float = param(
        0.1, "1", "Iron above this (in or around the lesion) counts as an iron rim", low=0.0, high=10.0)


@dataclass
class OutputParameters:
    fields: bool = param(True, "-", "Write fields (XDMF/HDF5) at each output time", choices=(True, False))
    progress: bool = param(True, "-", "Report progress (rank 0): a bar on a terminal, a plain line per "
                           "tenth of the run in a log or pipe", choices=(True, False))
    checkpoints: bool = param(True, "-", "Write a restart checkpoint at each output time "
                              "(rimmodel run --resume)", choices=(True, False))


@dataclass
class ModelConfig:
    """A whole run: every section of the TOML config."""

    geometry: GeometryParameters = field(default_factory=GeometryParameters)
    lesion: LesionParameters = field(default_factory=LesionParameters)
    microglia: MicrogliaParameters = field(default_factory=MicrogliaParameters)
    mediator: MediatorParameters = field(default_factory=MediatorParameters)
    follicles: FollicleParameters = field(default_factory=FollicleParameters)
    myelin: MyelinParameters = field(default_factory=MyelinParameters)
    axons: AxonParameters = field(default_factory=AxonParameters)
    tissue: TissueParameters = field(default_factory=TissueParameters)
    iron: IronParameters = field(default_factory=IronParameters)
    btk: BTKParameters = field(default_factory=BTKParameters)
    treatment: TreatmentParameters = field(default_factory=TreatmentParameters)
    time: TimeParameters = field(default_factory=TimeParameters)
    discretisation: DiscretisationParameters = field(default_factory=DiscretisationParameters)
    solver: SolverParameters = field(default_factory=SolverParameters)
    observables: ObservableParameters = field(default_factory=ObservableParameters)
    output: OutputParameters = field(default_factory=OutputParameters)


def parameter_symbols(config_class: type = ModelConfig) -> dict[str, tuple[str, str, Spec]]:
    """symbol -> (section, key, spec) for every parameter the equations name (``param(symbol=...)``)."""
    symbols = {}
    for section in dataclasses.fields(config_class):
        for item in dataclasses.fields(section.default_factory):
            spec = item.metadata.get("spec")
            if spec is not None and spec.symbol is not None:
                if spec.symbol in symbols:
                    raise ValueError(f"symbol {spec.symbol!r} declared twice: {symbols[spec.symbol][:2]} and "
                                     f"{(section.name, item.name)}")
                symbols[spec.symbol] = (section.name, item.name, spec)
    return symbols
