"""Validation cases: what the default model says about rim expansion, burn-out, surface-in
damage and BTK dose-response, computed from ordinary runs (``Simulation.reconfigure`` keeps
one mesh and one set of compiled forms per geometry)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rimmodel.config import load_config
from rimmodel.io.results import RunRecord
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
