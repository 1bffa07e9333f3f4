"""A whole virtual trial, top to bottom: draws -> lesion library -> calibration -> replicate trials
-> analysis -> sensitivity. Collective: every rank ends with the same results."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rimmodel.patients.analysis import TrialResult, analyse
from rimmodel.patients.conduct import TrialTable, cohort_arrays, conduct_trial
from rimmodel.patients.design import TrialDesign
from rimmodel.patients.disability import (COMPONENTS, CohortArrays, ScaleCalibration, calibrate_scale,
                                          component_norms, components, event_proportion)
from rimmodel.patients.draws import load_draws
from rimmodel.patients.library import SectionLibrary
from rimmodel.patients.radial import RadialTrajectories
from rimmodel.patients.population import CALIBRATION_COHORT
from rimmodel.patients.sensitivity import SensitivityRow, sensitivity_table
from rimmodel.patients.simulate import (ArmPlan, PatientCourse, arm_plans, needed_classes, oldest_baseline_lesion,
                                        randomise, simulate_cohort)
from rimmodel.patients.trajectories import BuildReport, LesionTrajectories


@dataclass
class TrialRun:
    design: TrialDesign
    plans: list[ArmPlan]
    draws_source: str
    library: BuildReport
    library_path: Path
    calibration: ScaleCalibration
    norms: np.ndarray
    results: list[TrialResult]                       # one per replicate
    first_table: TrialTable
    first_courses: list[PatientCourse]
    component_means: dict[str, np.ndarray]           # arm -> mean of each component at the reference time
    sensitivity: list[SensitivityRow] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [plan.name for plan in self.plans]


def run_design(design: TrialDesign, cache_path: str | Path, comm,
               library: LesionTrajectories | None = None) -> TrialRun:
    """``library``: any LesionTrajectories (default: ``lesion_library.model``'s, cached at ``cache_path``)."""
    clock = {"started": time.perf_counter()}
    draws = load_draws(design.parameters.draws, design.directory, design.parameters.keep)
    if library is None:
        library = design_library(design, draws, cache_path)
    plans = arm_plans(design, library.horizon)
    lesions, cortices = needed_classes(design, plans, len(draws))
    build = library.ensure(lesions, cortices, comm)
    clock["library"] = time.perf_counter()

    calibration_cohort = cohort_arrays(simulate_cohort(
        design, plans, np.zeros(design.calibration.patients, int), library, len(draws), CALIBRATION_COHORT, comm),
        design)
    norms = component_norms(calibration_cohort, design.disability)
    calibration = _calibrate(design, calibration_cohort, norms)
    clock["calibration"] = time.perf_counter()

    names = [plan.name for plan in plans]
    results, trials, first = [], [], None
    for replicate in range(design.design.replicates):
        courses = simulate_cohort(design, plans, randomise(design, replicate), library, len(draws), replicate, comm)
        cohort = cohort_arrays(courses, design)
        table = conduct_trial(courses, cohort, design, design.disability, design.endpoints, calibration.scale, norms)
        results.append(analyse(table, names))
        trials.append((courses, cohort))
        if first is None:
            first = (table, courses, _component_means(cohort, design, courses, names))
    clock["trials"] = time.perf_counter()
    rows = sensitivity_table(design, calibration_cohort, trials, names) if design.analysis.sensitivity else []
    clock["sensitivity"] = time.perf_counter()
    timings = {"library_s": clock["library"] - clock["started"],
               "calibration_s": clock["calibration"] - clock["library"],
               "trials_s": clock["trials"] - clock["calibration"],
               "sensitivity_s": clock["sensitivity"] - clock["trials"]}
    return TrialRun(design, plans, draws.source, build, Path(cache_path), calibration, norms, results, first[0],
                    first[1], first[2], rows, timings)


def design_library(design: TrialDesign, draws, cache_path: str | Path) -> LesionTrajectories:
    """The design's lesion library, with courses long enough for its oldest baseline lesion."""
    horizon = design.horizon + oldest_baseline_lesion(design)
    kind = RadialTrajectories if design.lesion_library.model == "radial" else SectionLibrary
    return kind(design.lesion_library, design.model, draws, horizon, cache_path, cortex_horizon=design.horizon)


def _calibrate(design: TrialDesign, cohort: CohortArrays, norms: np.ndarray) -> ScaleCalibration:
    settings = design.calibration
    if settings.placebo_event_proportion > 0:
        return calibrate_scale(cohort, design.disability, design.endpoints, norms, settings.placebo_event_proportion,
                               settings.follow_up)
    achieved = event_proportion(cohort, design.disability, design.endpoints, settings.scale, norms, settings.follow_up)
    floor = event_proportion(cohort, design.disability, design.endpoints, 0.0, norms, settings.follow_up)
    return ScaleCalibration(settings.scale, float("nan"), achieved, floor, settings.follow_up)


def _component_means(cohort: CohortArrays, design: TrialDesign, courses: list[PatientCourse],
                     names: list[str]) -> dict[str, np.ndarray]:
    """Each arm's mean damage components at the reference time: where a treatment effect comes from."""
    values = components(cohort, design.disability)
    at = np.array([[np.interp(design.disability.reference_time, cohort.visits, row[:, k])
                    for k in range(len(COMPONENTS))] for row in values])
    arm = np.array([course.arm for course in courses])
    return {name: at[arm == i].mean(axis=0) for i, name in enumerate(names)}
