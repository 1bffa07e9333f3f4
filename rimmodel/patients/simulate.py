"""One patient's course on an arm: lesions old and new, cortex, relapses, MRI read-outs.

Baseline lesions are years old at randomisation (``population.natural_history.lesion_age_max``):
each is read from its age on, untreated until randomisation and under the arm's occupancy course
after; a lesion that forms at
t_f follows the course from t_f (rounded down to ``lesion_library.course_resolution``). New
lesions and relapses are Poisson processes whose rate is the patient's inflammatory activity
(gamma distributed, so counts are negative binomial) times the population rate, times the arm's
``inflammation_rate_ratio`` once its ``inflammation_onset`` has passed. Patients are simulated on
whichever rank holds them (index modulo ranks) from their own random streams, then gathered in
index order, so one rank and many give the same cohort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rimmodel.patients.design import PLACEBO, TrialDesign
from rimmodel.patients.disability import DAMAGE_COLUMNS
from rimmodel.patients.occupancy import OccupancyCourse
from rimmodel.patients.population import (CONDUCT, INFLAMMATION, MEASUREMENT, Patient, draw_patient, patient_rng)
from rimmodel.patients.trajectories import (LOCATIONS, CortexClass, LesionClass, LesionTrajectories,
                                            sphere_radius)

RANDOMISATION_STREAM = 2**21
DRAW_STREAM = 2**22
MRI_READOUTS = ("new_lesions", "enlarging", "sel", "rim_active", "iron_rims", "t2_volume", "brain_volume_change")
CORTEX, TISSUE = DAMAGE_COLUMNS.index("cortex_axons"), DAMAGE_COLUMNS.index("tissue_loss")


@dataclass(frozen=True)
class ArmPlan:
    index: int
    name: str
    kind: str                    # placebo, btk or anti_inflammatory
    course: OccupancyCourse
    inflammation_ratio: float
    inflammation_onset: float


@dataclass
class PatientCourse:
    index: int
    arm: int
    age: float
    edss: float                  # latent at baseline
    screening_edss: float
    susceptibility_z: float
    follicle_area: float
    lesions: int                 # at baseline
    rim_lesions: int             # at baseline, by assignment
    draw: int
    damage: np.ndarray           # (visits, DAMAGE_COLUMNS) accrued since baseline
    relapse_times: np.ndarray
    relapse_draws: np.ndarray
    noise: np.ndarray            # (visits,) standard normal
    enrolment_draw: float        # uniform: place in the enrolment period
    dropout: float               # yr after randomisation (inf: stays)
    mri: dict[str, np.ndarray]   # MRI_READOUTS at the scan times


def arm_plans(design: TrialDesign, horizon: float) -> list[ArmPlan]:
    plans = [ArmPlan(0, PLACEBO, "placebo", OccupancyCourse(), 1.0, 0.0)]
    for i, arm in enumerate(design.arms, start=1):
        course = OccupancyCourse.from_regimen(arm, horizon) if arm.kind == "btk" else OccupancyCourse()
        plans.append(ArmPlan(i, arm.name, arm.kind, course, arm.inflammation_rate_ratio, arm.inflammation_onset))
    return plans


def needed_classes(design: TrialDesign, plans: list[ArmPlan], draws: int):
    """Every lesion and cortex class a trial can ask for: all courses new lesions may start under and all
    baseline lesion ages (untreated until randomisation, the arm's course after), in every location the
    population has lesions in."""
    resolution = design.lesion_library.course_resolution
    courses = {plan.course.tail(start) for plan in plans for start in np.arange(0.0, design.horizon - 1e-9, resolution)}
    locations = [name for name, share in zip(LOCATIONS, design.history.location_shares) if share > 0]
    lesions = {LesionClass(location, rim, course, draw) for location in locations for rim in (True, False)
               for course in courses for draw in range(draws)}
    lesions |= {LesionClass(location, rim, plan.course.delayed(age), draw) for plan in plans for location in locations
                for age in baseline_ages(design, location) for rim in (True, False) for draw in range(draws)}
    cortices = {CortexClass(plan.course, draw) for plan in plans for draw in range(draws)}
    return lesions, cortices


def rounded_age(age, step: float) -> np.ndarray:
    """Baseline lesion ages rounded to the library's age step (each rounded age is a run)."""
    return np.round(np.round(np.asarray(age, float) / step) * step, 6)


def baseline_ages(design: TrialDesign, location: str) -> np.ndarray:
    step = design.lesion_library.age_step(location)
    return rounded_age(np.arange(0.0, rounded_age(design.history.lesion_age_max, step) + 1e-9, step), step)


def oldest_baseline_lesion(design: TrialDesign) -> float:
    """yr: how far beyond the follow-up the lesion courses must reach."""
    return max(float(baseline_ages(design, location)[-1]) for location in LOCATIONS)


def randomise(design: TrialDesign, replicate: int) -> np.ndarray:
    """Arm index of each patient in enrolment order: permuted blocks with the allocation weights."""
    weights = [design.randomisation.placebo_allocation, *(arm.allocation for arm in design.arms)]
    block = np.repeat(np.arange(len(weights)), weights)
    size = design.randomisation.block_size or 2 * block.size
    block = np.tile(block, max(size // block.size, 1))
    rng = np.random.default_rng(np.random.SeedSequence([design.design.seed, replicate, RANDOMISATION_STREAM]))
    blocks = -(-design.design.patients // block.size)
    return np.concatenate([rng.permutation(block) for _ in range(blocks)])[:design.design.patients]


def replicate_draw(design: TrialDesign, replicate: int, draws: int) -> int:
    rng = np.random.default_rng(np.random.SeedSequence([design.design.seed, replicate, DRAW_STREAM]))
    return int(rng.integers(draws))


def simulate_cohort(design: TrialDesign, plans: list[ArmPlan], arms: np.ndarray, library: LesionTrajectories,
                    draws: int, replicate: int, comm) -> list[PatientCourse]:
    """Every patient (arm ``arms[i]``), shared over the ranks and gathered in index order. Collective."""
    fixed_draw = replicate_draw(design, replicate, draws) if design.parameters.assignment == "per_replicate" else None
    visits, scans = visit_times(design), scan_times(design)
    mine = []
    for index in range(comm.rank, arms.size, comm.size):
        patient = draw_patient(index, design.history, design.population.inclusion, design.disability.measurement_sd,
                               draws, design.design.seed, replicate)
        if fixed_draw is not None:
            patient.draw = fixed_draw
        mine.append(simulate_patient(patient, plans[arms[index]], design, library, visits, scans, replicate))
    gathered = [course for part in comm.allgather(mine) for course in part]
    return sorted(gathered, key=lambda course: course.index)


def visit_times(design: TrialDesign) -> np.ndarray:
    return np.arange(0.0, design.horizon + 1e-9, design.visits.edss_interval)


def scan_times(design: TrialDesign) -> np.ndarray:
    return np.arange(0.0, design.horizon + 1e-9, design.visits.mri_interval)


def simulate_patient(patient: Patient, plan: ArmPlan, design: TrialDesign, library: LesionTrajectories,
                     visits: np.ndarray, scans: np.ndarray, replicate: int) -> PatientCourse:
    history, seed = design.history, design.design.seed
    times = np.union1d(visits, scans)
    damage = np.zeros((times.size, len(DAMAGE_COLUMNS)))
    lesions = _baseline_lesions(patient, plan, design, library, times, damage)

    rng = patient_rng(seed, replicate, patient.index, INFLAMMATION)
    rate = patient.activity * history.new_lesion_rate
    formed = _poisson_process(rng, rate, plan, design.horizon)
    location = rng.choice(len(LOCATIONS), size=formed.size, p=np.asarray(history.location_shares) /
                          sum(history.location_shares))
    spread = np.exp(history.new_lesion_volume_sigma * rng.standard_normal(formed.size))
    volume = history.new_lesion_volume_median * spread
    rim = rng.random(formed.size) < history.new_lesion_rim_share
    relapses = _poisson_process(rng, patient.activity * history.relapse_rate, plan, design.horizon)
    relapse_draws = rng.random(relapses.size)
    resolution = design.lesion_library.course_resolution
    for t_f, where, size, active in zip(formed, location, volume, rim):
        kind = LesionClass(LOCATIONS[where], bool(active), plan.course.tail(np.floor(t_f / resolution) * resolution),
                           patient.draw)
        since = times - t_f
        lesions.append(_add_new_lesion(library, kind, float(sphere_radius(size)), since, where, damage, t_f))

    if patient.follicle_area > 0:
        cortex = library.cortex(CortexClass(plan.course, patient.draw), times)
        damage[:, CORTEX] += patient.follicle_area * cortex.axon_loss
        damage[:, TISSUE] += patient.follicle_area * cortex.tissue_loss

    conduct = patient_rng(seed, replicate, patient.index, CONDUCT)
    enrolment_draw = float(conduct.random())
    dropout = float(conduct.exponential(1.0 / design.follow_up.dropout)) if design.follow_up.dropout > 0 else np.inf
    noise = patient_rng(seed, replicate, patient.index, MEASUREMENT).standard_normal(visits.size)
    at_visits, at_scans = np.searchsorted(times, visits), np.searchsorted(times, scans)
    return PatientCourse(
        patient.index, plan.index, patient.age, patient.edss, patient.screening_edss, patient.susceptibility_z,
        patient.follicle_area, int(patient.lesion_volume.size), int(patient.lesion_rim.sum()), patient.draw,
        damage[at_visits], relapses, relapse_draws, noise, enrolment_draw, dropout,
        mri_readouts(lesions, damage[at_scans, TISSUE], scans, at_scans, design))


@dataclass
class _LesionsAtScans:
    formed: np.ndarray     # (n,) yr (0: present at baseline)
    baseline: bool
    volume: np.ndarray     # (n, times), 0 before formation
    rim_volume: np.ndarray
    iron_volume: np.ndarray


def _baseline_lesions(patient: Patient, plan: ArmPlan, design: TrialDesign, library: LesionTrajectories,
                      times: np.ndarray, damage: np.ndarray) -> list[_LesionsAtScans]:
    """Each baseline lesion is read from its (rounded) age on; on a treated arm every age is its own class
    (untreated until randomisation), on placebo one class serves all ages."""
    found = []
    radius = patient.lesion_radius
    for where, location in enumerate(LOCATIONS):
        ages = rounded_age(patient.lesion_age, design.lesion_library.age_step(location))
        for rim in (True, False):
            chosen = (patient.lesion_location == where) & (patient.lesion_rim == rim)
            groups = ([chosen] if plan.course.is_untreated
                      else [chosen & (ages == age) for age in np.unique(ages[chosen])])
            for group in groups:
                if not group.any():
                    continue
                kind = LesionClass(location, rim, plan.course.delayed(float(ages[group][0])), patient.draw)
                course = library.lesions(kind, radius[group], times, ages[group])
                damage[:, where] += np.sum(course.axon_loss - course.axon_loss[:, :1], axis=0)
                damage[:, TISSUE] += np.sum(course.tissue_loss - course.tissue_loss[:, :1], axis=0)
                found.append(_LesionsAtScans(np.zeros(int(group.sum())), True, course.volume, course.rim_volume,
                                             course.iron_volume))
    return found


def _add_new_lesion(library: LesionTrajectories, kind: LesionClass, radius: float, since: np.ndarray, where: int,
                    damage: np.ndarray, formed: float) -> _LesionsAtScans:
    exists = since >= 0.0
    course = library.lesions(kind, np.array([radius]), np.maximum(since, 0.0))
    damage[:, where] += np.where(exists, course.axon_loss[0], 0.0)     # the acute loss at formation counts too
    damage[:, TISSUE] += np.where(exists, course.tissue_loss[0], 0.0)
    return _LesionsAtScans(np.array([formed]), False, *(np.where(exists, values, 0.0)
                                                        for values in (course.volume, course.rim_volume,
                                                                       course.iron_volume)))


def _poisson_process(rng: np.random.Generator, rate: float, plan: ArmPlan, horizon: float) -> np.ndarray:
    """Event times on [0, horizon]: ``rate`` before the arm's inflammation onset, ``rate * ratio`` after."""
    onset = min(plan.inflammation_onset, horizon)
    segments = [(0.0, onset, rate), (onset, horizon, rate * plan.inflammation_ratio)]
    times = [rng.uniform(low, high, rng.poisson(r * (high - low))) for low, high, r in segments]
    return np.sort(np.concatenate(times))


def mri_readouts(lesions: list[_LesionsAtScans], tissue_loss: np.ndarray, scans: np.ndarray, at_scans: np.ndarray,
                 design: TrialDesign) -> dict[str, np.ndarray]:
    """New and enlarging T2 lesions per scan interval, SELs, rim- and iron-rim lesions, T2 volume, brain volume."""
    endpoints, history = design.endpoints, design.history
    if lesions:
        formed = np.concatenate([group.formed for group in lesions])
        baseline = np.concatenate([np.full(group.formed.size, group.baseline) for group in lesions])
        volume, rim, iron = (np.concatenate([getattr(group, name)[:, at_scans] for group in lesions])
                             for name in ("volume", "rim_volume", "iron_volume"))
    else:
        formed, baseline, volume, rim, iron = np.zeros(0), np.zeros(0, bool), *(np.zeros((0, scans.size)),) * 3
    exists = baseline[:, None] | (formed[:, None] <= scans[None, :])
    previous = np.concatenate([[-np.inf], scans[:-1]])
    new = np.array([np.sum(~baseline & (formed > low) & (formed <= high)) for low, high in zip(previous, scans)])
    growth = np.diff(volume, axis=1, prepend=volume[:, :1])
    existed_before = np.concatenate([np.zeros((formed.size, 1), bool), exists[:, :-1]], axis=1)
    enlarging = np.sum(existed_before & (growth >= endpoints.enlarging_volume), axis=0)
    never_shrank = np.logical_and.accumulate(growth >= -1e-9, axis=1)
    sel = np.sum(baseline[:, None] & never_shrank & (volume - volume[:, :1] >= endpoints.sel_volume), axis=0)
    ageing = history.brain_volume * history.ageing_atrophy * scans
    return {"new_lesions": new, "enlarging": enlarging, "sel": sel,
            "rim_active": np.sum(exists & (rim >= endpoints.rim_volume), axis=0),
            "iron_rims": np.sum(exists & (iron >= endpoints.rim_volume), axis=0),
            "t2_volume": np.sum(np.where(exists, volume, 0.0), axis=0),
            "brain_volume_change": -100.0 * (tissue_loss + ageing) / history.brain_volume}
