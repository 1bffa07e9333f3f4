"""Validation cases: what the default model says about rim expansion, burn-out, surface-in
damage, BTK dose-response, and tissue loss and iron seen on synthetic MRI, computed from
ordinary runs (``Simulation.reconfigure`` keeps one mesh and one set of compiled forms per
geometry)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rimmodel.config import load_config
from rimmodel.io.field_series import read_fields
from rimmodel.io.results import RunRecord, read_run
from rimmodel.simulation import Simulation

QUIET = ("output.fields=false", "output.progress=false")
# A wider, deeper section than the default, so 20-year lesions stay clear of the sides.
WIDE = ("geometry.width=12.0", "geometry.white_matter_depth=7.0", "lesion.centre_x=6.0",
        "geometry.mesh_size=0.25", "follicles.patches=[{centre=[2.0, 9.5]}, {centre=[10.0, 9.5], density=0.7}]")


def series(record: RunRecord, name: str) -> np.ndarray:
    return np.asarray(record.series[name])


def late_expansion_rate(record: RunRecord, start: float) -> float:
    """Slope (mm/yr) of the equivalent radius from ``start`` to the end."""
    time = np.asarray(record.time)
    late = time >= start
    return float(np.polyfit(time[late], series(record, "lesion_equivalent_radius")[late], 1)[0])


def rim_lifetime(record: RunRecord) -> float | None:
    """First output time after the first year at which no rim is left (None: still active)."""
    time, rim = np.asarray(record.time), series(record, "rim_size")
    extinct = np.flatnonzero((time >= 1.0) & (rim <= 0.0))
    return float(time[extinct[0]]) if extinct.size else None


@dataclass
class Expansion:
    years: float
    rate_mm_per_yr: float
    radius: tuple[float, float]
    sphere_volume_growth: float       # mm^3/yr of a sphere with the same radius and advance
    sphere_relative_growth: float     # 1/yr
    record: RunRecord


def expansion_case(out_dir: Path, years: float = 20.0) -> Expansion:
    record = Simulation(load_config(None, (*QUIET, *WIDE, f"time.end={years}"))).run(
        out_dir / "expansion", overwrite=True)
    rate = late_expansion_rate(record, years / 2)
    radius = series(record, "lesion_equivalent_radius")
    volume = 4 / 3 * math.pi * radius[-1] ** 3
    growth = 4 * math.pi * radius[-1] ** 2 * rate
    return Expansion(years, rate, (float(radius[0]), float(radius[-1])), growth, growth / volume, record)


@dataclass
class Cohort:
    activation_rates: np.ndarray
    deactivation_rates: np.ndarray
    lifetimes: list[float | None]
    years: float

    def median_lifetime(self) -> float | None:
        """Median with censored lesions counted as outliving the run (None if half are censored)."""
        values = sorted(math.inf if t is None else t for t in self.lifetimes)
        median = float(np.median(values))
        return None if math.isinf(median) else median


def burnout_cohort(out_dir: Path, size: int = 12, years: float = 20.0, seed: int = 2021) -> Cohort:
    """Lesions differing in microglial activation and deactivation rates (log-normal spread)."""
    rng = np.random.default_rng(seed)
    activation = 1.75 * np.exp(0.08 * rng.standard_normal(size))
    deactivation = 0.5 * np.exp(0.15 * rng.standard_normal(size))
    simulation, lifetimes = None, []
    for i, (r_m, delta) in enumerate(zip(activation, deactivation)):
        config = load_config(None, (*QUIET, *WIDE, f"time.end={years}", f"microglia.activation_rate={r_m}",
                                    f"microglia.deactivation_rate={delta}"))
        simulation = _reuse(simulation, config)
        lifetimes.append(rim_lifetime(simulation.run(out_dir / f"cohort-{i:02d}", overwrite=True)))
    return Cohort(activation, deactivation, lifetimes, years)


@dataclass
class SurfaceIn:
    depth_bin_edges: np.ndarray
    myelin_loss: dict[str, np.ndarray] = field(default_factory=dict)   # final profile per case
    axon_loss: dict[str, np.ndarray] = field(default_factory=dict)


def surface_in_case(out_dir: Path, years: float = 10.0) -> SurfaceIn:
    """Cortical damage against depth, with and without follicles, far from any lesion."""
    base = (*QUIET, *WIDE, f"time.end={years}", "lesion.core_microglia=0.0", "lesion.radius=0.05",
            "lesion.core_myelin=1.0", "lesion.core_axons=1.0")
    result, simulation = None, None
    for name, extra in (("follicles", ()), ("no follicles", ("follicles.patches=[]",))):
        simulation = _reuse(simulation, load_config(None, (*base, *extra)))
        record = simulation.run(out_dir / f"surface-{name.replace(' ', '-')}", overwrite=True)
        result = result or SurfaceIn(record.depth_bin_edges)
        result.myelin_loss[name] = np.asarray(record.profiles["myelin_loss"][-1])
        result.axon_loss[name] = np.asarray(record.profiles["axon_loss"][-1])
    return result


@dataclass
class DoseResponse:
    occupancy: np.ndarray
    expansion_rate: np.ndarray   # mm/yr over the run
    axon_loss: np.ndarray        # at the end


def dose_response_case(out_dir: Path, occupancies=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0), years: float = 10.0,
                       overrides: tuple[str, ...] = WIDE) -> DoseResponse:
    simulation, rates, losses = None, [], []
    for occupancy in occupancies:
        config = load_config(None, (*QUIET, *overrides, f"time.end={years}", f"btk.cns_occupancy={occupancy}",
                                    f"btk.peripheral_occupancy={occupancy}"))
        simulation = _reuse(simulation, config)
        record = simulation.run(out_dir / f"dose-{occupancy:.2f}", overwrite=True)
        radius = series(record, "lesion_equivalent_radius")
        rates.append((radius[-1] - radius[0]) / years)
        losses.append(series(record, "axon_loss")[-1])
    return DoseResponse(np.asarray(occupancies), np.asarray(rates), np.asarray(losses))


def _reuse(simulation: Simulation | None, config) -> Simulation:
    if simulation is None:
        return Simulation(config)
    simulation.reconfigure(config)
    return simulation


# --- tissue loss and iron: what MRI sees of a chronic active and a burnt-out lesion -------------

# The one parameter set of the case: the defaults, with iron cleared more slowly than by default.
# The default lambda_Fe (calibrated, docs/calibration.md) is not below the microglial deactivation
# rate, so iron cannot outlast the microglia that took it up; 0.2 /yr (half-life 3.5 yr) is assumed, guided by lesion susceptibility on QSM
# staying high for ~4 years before it dissipates (Chen et al. 2014, Radiology 271:183) and by
# rim+ lesions retaining iron for years (Zhang et al. 2019, AJNR 40:987).
TISSUE_CASE = ("iron.clearance_rate=0.2",)
# The burnt-out lesion: microglial BTK inhibition at full occupancy (activation cut by E_m = 30 %),
# which takes the reference lesion below the threshold of a self-sustaining rim (rimmodel demo 3).
BURNT_OUT = ("btk.cns_occupancy=1.0",)


@dataclass
class LesionCourse:
    """One lesion over the years: the model's own measures and the synthetic MRI's."""

    name: str
    time: np.ndarray                 # yr, run outputs
    radius: np.ndarray               # mm, lesion equivalent radius (the edge)
    rim_size: np.ndarray             # mm^2, white matter with m > microglia threshold outside the lesion
    iron_rim_size: np.ndarray        # mm^2, white matter with Fe > iron threshold
    scan_time: np.ndarray            # yr, yearly scans
    t2_volume: np.ndarray            # mm^3, FLAIR lesion volume
    t2_volume_without_loss: np.ndarray   # mm^3, the same scans read with T = 1
    model_lesion_volume: np.ndarray  # mm^3, the run's lesion area x slice thickness at the scans
    prl_present: np.ndarray          # 0/1 per scan
    brain_volume: np.ndarray         # mm^3, SIENAX-like from T1
    parenchymal_volume: np.ndarray   # mm^3, exact, from the mesh
    images: dict[str, np.ndarray]    # contrast -> (scans, nx, ny, nz), kept for the figures
    extent: tuple[float, float, float, float]  # mm, in-plane bounds of the images (x0, x1, y0, y1)
    slice_thickness: float           # mm, of the scans of this 2D run

    @property
    def microglia_extinct(self) -> float | None:
        """First output after year 1 with no microglial rim (None: still active at the end)."""
        return _first_zero_after_appearance(self.time, self.rim_size, start=1.0)

    @property
    def iron_extinct(self) -> float | None:
        """First output after the iron rim appeared at which none is left (None: still there)."""
        return _first_zero_after_appearance(self.time, self.iron_rim_size)

    def edge_advance(self, start: float, end: float) -> float:
        """mm the edge moved between the scans at ``start`` and ``end``."""
        return float(np.interp(end, self.time, self.radius) - np.interp(start, self.time, self.radius))

    def plateau(self) -> tuple[float, float]:
        """Longest stretch (first, last scan time) over which the FLAIR volume never exceeds its
        value at the stretch's first scan."""
        best = (float(self.scan_time[0]), float(self.scan_time[0]))
        for i, start in enumerate(self.t2_volume):
            j = i
            while j + 1 < len(self.t2_volume) and self.t2_volume[j + 1] <= start:
                j += 1
            if self.scan_time[j] - self.scan_time[i] > best[1] - best[0]:
                best = (float(self.scan_time[i]), float(self.scan_time[j]))
        return best


def _extent(grid) -> tuple[float, float, float, float]:
    x, y, _ = grid.axes()
    return (x[0] - grid.spacing[0] / 2, x[-1] + grid.spacing[0] / 2, y[0] - grid.spacing[1] / 2,
            y[-1] + grid.spacing[1] / 2)


def _first_zero_after_appearance(time: np.ndarray, size: np.ndarray, start: float = 0.0) -> float | None:
    present = np.flatnonzero(size > 0)
    if present.size == 0:
        return None
    gone = np.flatnonzero((np.arange(len(time)) > present[0]) & (time >= start) & (size <= 0))
    return float(time[gone[0]]) if gone.size else None


def late_slope(time: np.ndarray, values: np.ndarray, start: float) -> float:
    """Least-squares slope of ``values`` from ``start`` on (units per yr)."""
    late = time >= start
    return float(np.polyfit(time[late], values[late], 1)[0])


@dataclass
class TissueLoss:
    active: LesionCourse
    burnt_out: LesionCourse
    burnt_out_default_iron: LesionCourse | None   # the same lesion with the default iron clearance
    years: float
    overrides: tuple[str, ...]
    slice_thickness: float


def tissue_loss_case(out_dir: Path, years: float = 20.0, overrides: tuple[str, ...] = WIDE,
                     with_default_iron: bool = True) -> TissueLoss:
    """A chronic active lesion and a burnt-out one with one parameter set (``TISSUE_CASE``), scanned yearly."""
    active, burnt, default = "chronic active", "burnt-out", "burnt-out, default iron clearance"
    scenarios = {active: TISSUE_CASE, burnt: (*TISSUE_CASE, *BURNT_OUT)}
    if with_default_iron:
        scenarios[default] = BURNT_OUT
    simulation, courses = None, {}
    for name, extra in scenarios.items():
        config = load_config(None, ("output.progress=false", "output.checkpoints=false", *overrides,
                                    f"time.end={years}", *extra))
        simulation = _reuse(simulation, config)
        run_dir = out_dir / f"tissue-{name.replace(', ', '-').replace(' ', '-')}"
        simulation.run(run_dir, overwrite=True)
        courses[name] = lesion_course(name, run_dir)
    return TissueLoss(courses[active], courses[burnt], courses.get(default), years, TISSUE_CASE,
                      courses[active].slice_thickness)


def lesion_course(name: str, run_dir: Path) -> LesionCourse:
    """A run's lesion measures and its yearly synthetic scans (default MRI parameters)."""
    from rimmodel.mri import hidden_damage, mri_parameters, radiology_readouts, synthetic_scans
    from rimmodel.mri.scans import WithoutFields

    params = mri_parameters()
    run, fields = read_run(run_dir), read_fields(run_dir)
    scans = synthetic_scans(fields, params)
    readouts = radiology_readouts(scans)
    without = radiology_readouts(synthetic_scans(WithoutFields(fields, "tissue"), params))
    damage = hidden_damage(fields, params, scans.times)
    lesion = np.interp(scans.times, run.time, run.observables["lesion_size"]) * params.slice_thickness
    return LesionCourse(
        name, run.time, run.observables["lesion_equivalent_radius"], run.observables["rim_size"],
        run.observables["iron_rim_size"], scans.times, readouts["t2_lesion_volume_mm3"],
        without["t2_lesion_volume_mm3"], lesion, readouts["prl_present"], readouts["brain_volume_mm3"],
        damage["parenchymal_volume_mm3"], scans.images, _extent(scans.grid), params.slice_thickness)
