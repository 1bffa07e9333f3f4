"""From damage to an EDSS-like score measured at visits, and confirmed disability worsening.

True (latent) disability of patient i at time t since baseline:

    D_i(t) = D_i(0) + s_i G sum_k w_k X_ik(t) / m_k + RAW_i(t) + transient_i(t)

* X_ik: the damage components accrued since baseline: axon loss in lesions weighted by location
  (mm^3), axon loss in cortex under follicles (mm^3), tissue loss (mm^3), and ageing
  (t exp((age - a_ref)/a_scale), yr);
* m_k: the placebo calibration cohort's mean of X_k at ``reference_time``, so the shares w_k
  (summing to 1) say which part of an untreated patient's worsening each component carries;
* G: EDSS points of mean untreated worsening by ``reference_time``, the one number calibrated
  (to the placebo arm's event proportion of a published trial, or given);
* s_i = exp(sigma z_i - sigma^2/2): how strongly this patient's damage shows (mean 1);
* RAW: each relapse leaves +0.5 or +1.0 with the given probabilities; transient: each relapse adds
  ``relapse_transient`` decaying with ``relapse_recovery``.

Measured EDSS at a visit: D + measurement noise (sd ``measurement_sd``), rounded to the nearest
EDSS step. Confirmed worsening as trials define it: an increase from the baseline visit's score
of ``step_at_or_below_cutoff`` (baseline <= cutoff), ``step_above_cutoff`` (above) or
``step_from_zero`` (baseline 0), still met at the first scheduled visit at least
``confirmation`` later (and, if ``sustained``, at every visit between). docs/patients.md gives
the sources and the reasons for each default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rimmodel.config import ConfigError
from rimmodel.config.spec import param
from rimmodel.patients.population import quantise_edss
from rimmodel.patients.trajectories import LOCATIONS

COMPONENTS = ("lesion_axons", "cortex_axons", "tissue_loss", "ageing")
# columns of a patient's damage array: axon loss per lesion location, then cortex, then tissue
DAMAGE_COLUMNS = (*(f"lesion_axons_{name}" for name in LOCATIONS), "cortex_axons", "tissue_loss")


@dataclass
class DisabilityModel:
    """``[disability]``: how damage becomes an EDSS-like score, and how it is measured."""

    lesion_share: float = param(0.35, "1", "Share of untreated worsening carried by axon loss in lesions",
                                low=0.0, high=1.0)
    cortex_share: float = param(0.25, "1", "Share carried by axon loss in cortex under follicles",
                                low=0.0, high=1.0)
    tissue_share: float = param(0.15, "1", "Share carried by tissue loss (lesion and cortical atrophy)",
                                low=0.0, high=1.0)
    ageing_share: float = param(0.25, "1", "Share carried by ageing (worsening no lesion or follicle explains)",
                                low=0.0, high=1.0)
    location_weights: list[float] = param(
        None, "1", "Weight of axon loss in white-matter, juxtacortical and periventricular lesions",
        source="assumed: periventricular lesions sit on long tracts (corticospinal, optic radiation)",
        factory=lambda: [1.0, 1.0, 1.5], low=0.0, high=100.0)
    susceptibility_sigma: float = param(0.5, "1", "Log-normal spread of how strongly damage shows in a patient",
                                        low=0.0, high=3.0)
    measurement_sd: float = param(
        0.3, "EDSS", "Visit-to-visit measurement noise before rounding to an EDSS step",
        source="[D] two raters within one EDSS step in >= 92 % of examinations (Goodkin et al. 1990, "
        "Neurology 40:971) is what sd 0.3 gives", low=0.0, high=3.0)
    relapse_residual: list[float] = param(
        None, "1", "Probabilities that a relapse leaves +0.5 and +1.0 EDSS for good",
        source="no return to the pre-relapse EDSS after 29 % of relapses at 6 months (Eur Neurol 2008; 59:44); "
        "the split between +0.5 and +1.0 assumed", factory=lambda: [0.15, 0.14], low=0.0, high=1.0)
    relapse_transient: float = param(1.0, "EDSS", "Extra EDSS at the onset of a relapse, recovering", low=0.0,
                                     high=5.0)
    relapse_recovery: float = param(0.15, "yr", "Time constant of recovery from a relapse", low=1e-3, high=5.0)
    ageing_reference_age: float = param(50.0, "yr", "Age at which the ageing component runs at its mean pace",
                                        low=0.0, high=100.0)
    ageing_scale: float = param(20.0, "yr", "Ageing speeds up e-fold over this many years of age",
                                low=1.0, high=1000.0)
    reference_time: float = param(2.0, "yr", "Time at which the components are normalised", low=0.1, high=50.0)


@dataclass
class Endpoints:
    """``[endpoints]``: how events and MRI read-outs are defined."""

    confirmation: float = param(0.5, "yr", "Confirmation interval of disability worsening (0.5: 6 months)",
                                low=0.0, high=5.0)
    edss_cutoff: float = param(5.5, "EDSS", "Baselines at or below need the larger step", low=0.0, high=9.5)
    step_at_or_below_cutoff: float = param(1.0, "EDSS", "Worsening step from a baseline at or below the cutoff",
                                           low=0.5, high=5.0)
    step_above_cutoff: float = param(0.5, "EDSS", "Worsening step from a baseline above the cutoff",
                                     low=0.5, high=5.0)
    step_from_zero: float = param(1.5, "EDSS", "Worsening step from a baseline of 0", low=0.5, high=5.0)
    sustained: bool = param(False, "-", "Require the increase at every visit up to the confirmation visit too",
                            choices=(True, False))
    enlarging_volume: float = param(
        30.0, "mm^3", "Growth between scans that counts a lesion as enlarging",
        source="SEL needs >= 10 contiguous voxels (~30 mm^3) of expansion, Elliott et al. 2019, Mult Scler 25:1915",
        low=0.0, high=1e4)
    sel_volume: float = param(
        30.0, "mm^3", "Growth since baseline, never shrinking between scans, that makes a lesion a SEL",
        source="Elliott et al. 2019, Mult Scler 25:1915 (>= 10 voxels, ~30 mm^3)", low=0.0, high=1e4)
    rim_volume: float = param(1.0, "mm^3", "Activated-microglia rim volume at which a lesion counts as rim-active",
                              low=0.0, high=1e4)


@dataclass
class CohortArrays:
    """What the disability model needs of a set of patients (arrays over patients P and visits V)."""

    visits: np.ndarray          # (V,) yr since baseline
    damage: np.ndarray          # (P, V, len(DAMAGE_COLUMNS)) accrued since baseline
    age: np.ndarray             # (P,)
    edss: np.ndarray            # (P,) latent at baseline
    susceptibility_z: np.ndarray
    relapse_times: np.ndarray   # (P, R), nan-padded
    relapse_draws: np.ndarray   # (P, R) uniforms deciding each relapse's residual
    noise: np.ndarray           # (P, V) standard normal measurement noise


def check_model(model: DisabilityModel) -> None:
    shares = [model.lesion_share, model.cortex_share, model.tissue_share, model.ageing_share]
    if abs(sum(shares) - 1.0) > 1e-6:
        raise ConfigError(f"disability.lesion_share + cortex_share + tissue_share + ageing_share = {sum(shares):g}; "
                          "they must add up to 1")
    if len(model.location_weights) != len(LOCATIONS):
        raise ConfigError(f"disability.location_weights: expected {len(LOCATIONS)} weights ({', '.join(LOCATIONS)})")
    if len(model.relapse_residual) != 2 or sum(model.relapse_residual) > 1.0:
        raise ConfigError("disability.relapse_residual: expected [P(+0.5), P(+1.0)] adding up to at most 1")


def components(cohort: CohortArrays, model: DisabilityModel) -> np.ndarray:
    """(P, V, 4): the four components of COMPONENTS."""
    weights = np.asarray(model.location_weights, float)
    lesions = cohort.damage[..., :len(LOCATIONS)] @ weights
    age_pace = np.exp((cohort.age - model.ageing_reference_age) / model.ageing_scale)
    ageing = age_pace[:, None] * cohort.visits[None, :]
    return np.stack([lesions, cohort.damage[..., len(LOCATIONS)], cohort.damage[..., len(LOCATIONS) + 1], ageing],
                    axis=-1)


def component_norms(cohort: CohortArrays, model: DisabilityModel) -> np.ndarray:
    """m_k: the cohort's mean of each component at the reference time."""
    values = components(cohort, model)
    return np.array([np.mean([np.interp(model.reference_time, cohort.visits, row) for row in values[..., k]])
                     for k in range(len(COMPONENTS))])


def latent_disability(cohort: CohortArrays, model: DisabilityModel, scale: float, norms: np.ndarray) -> np.ndarray:
    shares = np.array([model.lesion_share, model.cortex_share, model.tissue_share, model.ageing_share])
    present = norms > 0
    if not present.any():
        raise ConfigError("disability: no damage component accrues in the placebo cohort")
    shares = np.where(present, shares, 0.0)
    shares = shares / shares.sum()  # a component absent from the population hands its share to the rest
    drive = components(cohort, model) @ np.where(present, shares / np.where(present, norms, 1.0), 0.0)
    sigma = model.susceptibility_sigma
    strength = np.exp(sigma * cohort.susceptibility_z - sigma**2 / 2.0)
    return cohort.edss[:, None] + scale * strength[:, None] * drive + _relapse_effect(cohort, model)


def _relapse_effect(cohort: CohortArrays, model: DisabilityModel) -> np.ndarray:
    if cohort.relapse_times.shape[1] == 0:
        return np.zeros((cohort.edss.size, cohort.visits.size))
    since = cohort.visits[None, None, :] - cohort.relapse_times[:, :, None]       # (P, R, V)
    happened = np.nan_to_num(since, nan=-1.0) >= 0.0
    half, full = model.relapse_residual
    u = cohort.relapse_draws[:, :, None]
    residual = np.where(u < half, 0.5, np.where(u < half + full, 1.0, 0.0))
    transient = model.relapse_transient * np.exp(-np.where(happened, since, 0.0) / model.relapse_recovery)
    return np.sum(np.where(happened, residual + transient, 0.0), axis=1)


def measured_edss(cohort: CohortArrays, model: DisabilityModel, scale: float, norms: np.ndarray) -> np.ndarray:
    latent = latent_disability(cohort, model, scale, norms)
    return quantise_edss(latent + model.measurement_sd * cohort.noise)


def confirmed_worsening(measured: np.ndarray, visits: np.ndarray,
                        endpoints: Endpoints) -> tuple[np.ndarray, np.ndarray]:
    """(onset, confirmation) visit indices of each patient's first confirmed worsening; -1 for none."""
    baseline = measured[:, 0]
    step = np.where(baseline == 0.0, endpoints.step_from_zero,
                    np.where(baseline <= endpoints.edss_cutoff, endpoints.step_at_or_below_cutoff,
                             endpoints.step_above_cutoff))
    meets = measured - baseline[:, None] >= step[:, None] - 1e-9
    later = np.flatnonzero(visits - visits[0] >= endpoints.confirmation - 1e-9)
    lag = int(later[0]) if later.size else visits.size
    count = visits.size - lag - 1   # onsets 1 .. V-1-lag have a confirmation visit
    if count <= 0:
        none = np.full(measured.shape[0], -1)
        return none, none
    confirmed = meets[:, 1:1 + count] & meets[:, 1 + lag:1 + lag + count]
    if endpoints.sustained:
        for offset in range(1, lag):
            confirmed &= meets[:, 1 + offset:1 + offset + count]
    found = confirmed.any(axis=1)
    onset = np.where(found, np.argmax(confirmed, axis=1) + 1, -1)
    return onset, np.where(found, onset + lag, -1)


@dataclass
class ScaleCalibration:
    scale: float            # G, EDSS points by the reference time
    target: float           # placebo event proportion aimed at (nan: scale given)
    achieved: float         # in the calibration cohort
    floor: float            # with G = 0: events from noise and relapses alone
    follow_up: float


def event_proportion(cohort: CohortArrays, model: DisabilityModel, endpoints: Endpoints, scale: float,
                     norms: np.ndarray, follow_up: float) -> float:
    onset, confirm = confirmed_worsening(measured_edss(cohort, model, scale, norms), cohort.visits, endpoints)
    confirmed_by = np.where(confirm >= 0, cohort.visits[np.maximum(confirm, 0)], np.inf)
    return float(np.mean(confirmed_by <= follow_up + 1e-9))


def calibrate_scale(cohort: CohortArrays, model: DisabilityModel, endpoints: Endpoints, norms: np.ndarray,
                    target: float, follow_up: float) -> ScaleCalibration:
    """The smallest G whose placebo cohort reaches ``target`` events by ``follow_up`` (bisection; the
    proportion cannot fall as G grows, every component being non-decreasing in time)."""
    def proportion(scale):
        return event_proportion(cohort, model, endpoints, scale, norms, follow_up)

    floor = proportion(0.0)
    if floor >= target:
        return ScaleCalibration(0.0, target, floor, floor, follow_up)
    high = 1.0
    while (reached := proportion(high)) < target:
        high *= 2.0
        if high > 1e4:
            raise ConfigError(f"calibration.placebo_event_proportion = {target:g} is out of reach: at most "
                              f"{reached:.1%} of placebo patients have worsening confirmed (after "
                              f"{endpoints.confirmation:g} yr) by {follow_up:g} yr, however large the damage")
    low = 0.0
    for _ in range(40):
        middle = 0.5 * (low + high)
        low, high = (middle, high) if proportion(middle) < target else (low, middle)
    return ScaleCalibration(high, target, proportion(high), floor, follow_up)
