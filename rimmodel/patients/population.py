"""Who the patients are: natural history by phenotype, baseline lesion populations, screening.

Every number is a default of ``NaturalHistory`` (a trial file may override any of them under
``[population.natural_history]``) and carries its source or "assumed"; docs/patients.md has the
table. Randomness comes from explicit generators, one stream per patient and purpose
(``patient_rng``), so a patient is the same whichever rank simulates it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rimmodel.config import ConfigError
from rimmodel.config.spec import param
from rimmodel.patients.trajectories import LOCATIONS, sphere_radius

PHENOTYPES = ("RMS", "nrSPMS", "PPMS")
SCREEN, LESIONS, INFLAMMATION, MEASUREMENT, CONDUCT = range(5)   # random streams of a patient
CALIBRATION_COHORT = 2**20  # the "replicate" number of the placebo calibration cohort's streams
MAX_SCREENINGS = 1000


def patient_rng(seed: int, replicate: int, patient: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, replicate, patient, stream]))


@dataclass
class NaturalHistory:
    """``[population.natural_history]``: the untreated population (defaults depend on the phenotype)."""

    age_mean: float = param(49.0, "yr", "Mean age at screening", source="HERCULES mean age 49 (Fox et al. 2025)",
                            low=10.0, high=90.0)
    age_sd: float = param(8.0, "yr", "Spread of age at screening", low=0.0, high=30.0)
    edss_mean: float = param(5.0, "EDSS", "Mean disability of the source population (before screening)",
                             low=0.0, high=9.5)
    edss_sd: float = param(1.3, "EDSS", "Spread of disability in the source population", low=0.0, high=5.0)
    lesion_count_mean: float = param(
        24.5, "-", "Mean number of T2 lesions at baseline",
        source="[D] 1492 lesions in 61 patients, Calvi et al. 2023, Mult Scler 29:352", low=0.0, high=1000.0)
    lesion_count_shape: float = param(2.0, "-", "Negative-binomial shape of the lesion count (smaller: more "
                                      "spread)", low=0.01, high=1e6)
    lesion_volume_median: float = param(30.0, "mm^3", "Median volume of a baseline lesion", low=0.1, high=1e5)
    lesion_volume_sigma: float = param(1.0, "1", "Log-normal shape of baseline lesion volumes", low=0.0,
                                       high=5.0)
    periventricular_volume_factor: float = param(
        3.0, "1", "Periventricular lesions are this much larger (median)",
        source="assumed; periventricular lesion volume is the largest of all regions, Pongratz et al. 2023, "
        "NeuroImage Clin 37:103311", low=0.1, high=100.0)
    location_shares: list[float] = param(
        None, "1", "Shares of lesions in white matter (subcortical), juxtacortical, periventricular",
        source="white matter [D] 13.0 subcortical lesions/patient (Pongratz 2023) of 24.5 (Calvi 2023); the "
        "split of the rest assumed", factory=lambda: [0.53, 0.20, 0.27], low=0.0, high=1.0)
    rim_lesion_share: float = param(
        0.054, "1", "Mean share of baseline lesions with a chronic active rim",
        source="[D] 80 PRLs among 1492 lesions, Calvi et al. 2023", low=0.0, high=1.0)
    rim_propensity_concentration: float = param(
        30.0, "-", "Beta concentration of each patient's rim-lesion share (rims cluster in patients)",
        source="[D] chosen so that 55 % of patients have >= 1 rim lesion (56 % in Calvi et al. 2023); "
        "clinical 3T finds PRLs in 22.9 % (Meaton et al. 2022)", low=0.01, high=1e6)
    follicle_positive: float = param(
        0.41, "1", "Probability that a patient has meningeal B-cell follicles",
        source="41 % of SPMS cases, 0/7 PPMS, Magliozzi et al. 2007, Brain 130:1089", low=0.0, high=1.0)
    follicle_area_median: float = param(
        500.0, "mm^2", "Median pial area under follicles in a follicle-positive patient (only its spread "
        "matters: the disability model normalises each component by its placebo mean)", low=0.0, high=1e6)
    follicle_area_sigma: float = param(1.0, "1", "Log-normal shape of the follicle-covered area", low=0.0,
                                       high=5.0)
    lesion_age_max: float = param(
        10.0, "yr", "Baseline lesions formed uniformly over this many years before randomisation (their age is "
        "uniform on [0, this]; 0: every baseline lesion is seeded at randomisation)",
        source="assumed: lesions accrue at a constant rate over the years before randomisation", low=0.0, high=40.0)
    new_lesion_rate: float = param(1.5, "1/yr", "Mean rate of new T2 lesions, untreated", low=0.0, high=100.0)
    relapse_rate: float = param(0.05, "1/yr", "Mean annualised relapse rate, untreated", low=0.0, high=10.0)
    activity_shape: float = param(
        0.5, "-", "Gamma shape of a patient's inflammatory activity (multiplies both rates; counts are then "
        "negative binomial)", low=0.01, high=1e6)
    new_lesion_volume_median: float = param(
        50.0, "mm^3", "Median volume of a new lesion",
        source="assumed; new enhancing lesions of 44 (non-rim) to 169 (future rim) mm^3, Clark et al. 2023, "
        "Ann Neurol 94:736 (volumes printed as mL)", low=0.1, high=1e5)
    new_lesion_volume_sigma: float = param(0.8, "1", "Log-normal shape of new-lesion volumes", low=0.0, high=5.0)
    new_lesion_rim_share: float = param(
        0.40, "1", "Share of new lesions that become chronic active (rim) lesions",
        source="37/93 new enhancing lesions became PRLs, Clark et al. 2023, Ann Neurol 94:736", low=0.0, high=1.0)
    brain_volume: float = param(1.1e6, "mm^3", "Parenchymal brain volume (for percent brain-volume change)",
                                low=1e3, high=1e7)
    ageing_atrophy: float = param(0.002, "1/yr", "Brain-volume loss of ageing, as a fraction per year",
                                  low=0.0, high=0.1)


PHENOTYPE_DEFAULTS = {
    "nrSPMS": {},
    "RMS": {"age_mean": 37.0, "age_sd": 9.0, "edss_mean": 2.5, "edss_sd": 1.4, "follicle_positive": 0.2,
            "new_lesion_rate": 4.0, "relapse_rate": 0.4},
    "PPMS": {"age_mean": 45.0, "edss_mean": 4.5, "follicle_positive": 0.0, "new_lesion_rate": 0.8,
             "relapse_rate": 0.0},
}


@dataclass
class InclusionCriteria:
    """``[population.inclusion]``: who may be randomised (checked at a screening visit)."""

    edss_min: float = param(0.0, "EDSS", "Lowest screening EDSS", low=0.0, high=9.5)
    edss_max: float = param(9.5, "EDSS", "Highest screening EDSS", low=0.0, high=9.5)
    age_min: float = param(18.0, "yr", "Youngest age", low=0.0, high=100.0)
    age_max: float = param(65.0, "yr", "Oldest age", low=0.0, high=100.0)
    relapse_window: float = param(0.0, "yr", "Window before screening over which relapses are counted "
                                  "(0: no relapse criterion)", low=0.0, high=20.0)
    relapses_min: int = param(0, "-", "Fewest relapses in the window", low=0, high=1000)
    relapses_max: int = param(1000, "-", "Most relapses in the window", low=0, high=1000)


@dataclass
class Patient:
    index: int
    age: float
    edss: float                  # true (latent) disability at baseline
    screening_edss: float        # as measured at screening
    activity: float              # inflammatory activity, mean 1
    susceptibility_z: float      # standard normal; the disability model scales it
    follicle_area: float         # mm^2 of follicle-covered pia (0: follicle-negative)
    lesion_location: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    lesion_volume: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lesion_rim: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    draw: int = 0
    lesion_age: np.ndarray = field(default_factory=lambda: np.zeros(0))   # yr at randomisation

    @property
    def lesion_radius(self) -> np.ndarray:
        return sphere_radius(self.lesion_volume)


def quantise_edss(latent: np.ndarray) -> np.ndarray:
    """The nearest EDSS step: 0, 1.0, 1.5, ..., 9.5 (10, death, is not modelled)."""
    x = np.clip(latent, 0.0, 9.5)
    return np.where(x < 0.5, 0.0, np.maximum(np.round(2.0 * x) / 2.0, 1.0))


def screen(history: NaturalHistory, inclusion: InclusionCriteria, measurement_sd: float,
           rng: np.random.Generator) -> tuple[float, float, float, float]:
    """(age, latent EDSS, measured screening EDSS, activity) of the first candidate who qualifies."""
    for _ in range(MAX_SCREENINGS):
        age = rng.normal(history.age_mean, history.age_sd)
        latent = float(np.clip(rng.normal(history.edss_mean, history.edss_sd), 0.0, 9.5))
        measured = float(quantise_edss(latent + measurement_sd * rng.standard_normal()))
        activity = rng.gamma(history.activity_shape, 1.0 / history.activity_shape)
        prior = rng.poisson(history.relapse_rate * activity * inclusion.relapse_window)
        if (inclusion.age_min <= age <= inclusion.age_max and inclusion.edss_min <= measured <= inclusion.edss_max
                and inclusion.relapses_min <= prior <= inclusion.relapses_max):
            return float(age), latent, measured, float(activity)
    raise ConfigError(f"population.inclusion: fewer than 1 in {MAX_SCREENINGS} candidates qualify; widen the "
                      "criteria or move population.natural_history towards them")


def draw_patient(index: int, history: NaturalHistory, inclusion: InclusionCriteria, measurement_sd: float,
                 draws: int, seed: int, replicate: int) -> Patient:
    """One screened patient with a baseline lesion population, follicle burden and parameter draw."""
    age, latent, measured, activity = screen(history, inclusion, measurement_sd,
                                             patient_rng(seed, replicate, index, SCREEN))
    rng = patient_rng(seed, replicate, index, LESIONS)
    count = rng.poisson(rng.gamma(history.lesion_count_shape, history.lesion_count_mean / history.lesion_count_shape))
    location = rng.choice(len(LOCATIONS), size=count, p=_shares(history.location_shares))
    median = history.lesion_volume_median * np.where(location == LOCATIONS.index("periventricular"),
                                                     history.periventricular_volume_factor, 1.0)
    volume = median * np.exp(history.lesion_volume_sigma * rng.standard_normal(count))
    m, c = history.rim_lesion_share, history.rim_propensity_concentration
    propensity = rng.beta(m * c, (1.0 - m) * c) if 0.0 < m < 1.0 else m
    rim = rng.random(count) < propensity
    follicles = rng.random() < history.follicle_positive
    area = 0.0
    if follicles:  # drawn only for follicle-positive patients (keeps every later draw of the stream in place)
        area = history.follicle_area_median * np.exp(history.follicle_area_sigma * rng.standard_normal())
    susceptibility, draw = float(rng.standard_normal()), int(rng.integers(draws))
    lesion_age = history.lesion_age_max * rng.random(count)   # drawn last: the earlier draws stay in place
    return Patient(index, age, latent, measured, activity, susceptibility, float(area), location.astype(int), volume,
                   rim, draw, lesion_age)


def _shares(values: list[float]) -> np.ndarray:
    shares = np.asarray(values, float)
    return shares / shares.sum()


def check_history(history: NaturalHistory, prefix: str) -> None:
    if len(history.location_shares) != len(LOCATIONS) or sum(history.location_shares) <= 0:
        raise ConfigError(f"{prefix}location_shares: expected {len(LOCATIONS)} non-negative shares "
                          f"({', '.join(LOCATIONS)}) with a positive sum, got {history.location_shares}")
