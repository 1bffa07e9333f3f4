"""Running the trial: enrolment, follow-up (fixed or event-driven), drop-out, and what each patient
contributes to the analysis.

Patients enrol evenly over ``follow_up.accrual`` in randomisation order. An event-driven trial
closes on the calendar day its ``target_events``-th confirmed worsening is confirmed (an event
counts once its confirmation visit has happened); every patient still in the trial is censored
then. Time to event is the onset visit of the first confirmed worsening, as trials report it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rimmodel.patients.design import TrialDesign
from rimmodel.patients.disability import CohortArrays, confirmed_worsening, measured_edss
from rimmodel.patients.simulate import PatientCourse, scan_times, visit_times


@dataclass
class TrialTable:
    """One entry per randomised patient (arrays)."""

    arm: np.ndarray
    time: np.ndarray             # yr: onset of confirmed worsening, or censoring
    event: np.ndarray            # bool
    follow_up: np.ndarray        # yr in the trial
    baseline_edss: np.ndarray    # measured at the baseline visit
    final_edss: np.ndarray       # measured at the last visit in the trial
    age: np.ndarray
    relapses: np.ndarray
    scan_years: np.ndarray       # yr between the baseline scan and the last scan in the trial
    new_or_enlarging: np.ndarray
    sel: np.ndarray              # SELs at the last scan
    rim_baseline: np.ndarray
    rim_final: np.ndarray
    brain_volume_change: np.ndarray  # % at the last scan
    closeout: float              # calendar yr the trial ended (fixed: last patient's end)


def cohort_arrays(courses: list[PatientCourse], design: TrialDesign) -> CohortArrays:
    visits = visit_times(design)
    longest = max((course.relapse_times.size for course in courses), default=0)

    def padded(name):
        values = np.full((len(courses), longest), np.nan)
        for i, course in enumerate(courses):
            row = getattr(course, name)
            values[i, :row.size] = row
        return values

    return CohortArrays(visits, np.stack([course.damage for course in courses]),
                        np.array([course.age for course in courses]), np.array([course.edss for course in courses]),
                        np.array([course.susceptibility_z for course in courses]), padded("relapse_times"),
                        padded("relapse_draws"), np.stack([course.noise for course in courses]))


def conduct_trial(courses: list[PatientCourse], cohort: CohortArrays, design: TrialDesign, disability, endpoints,
                  scale: float, norms: np.ndarray) -> TrialTable:
    visits = cohort.visits
    measured = measured_edss(cohort, disability, scale, norms)
    onset, confirm = confirmed_worsening(measured, visits, endpoints)
    count = len(courses)
    follow = design.follow_up
    enrolled = follow.accrual * (np.arange(count) + np.array([c.enrolment_draw for c in courses])) / count
    stays = np.minimum(follow.years, np.array([c.dropout for c in courses]))
    confirmed_at = np.where(confirm >= 0, visits[np.maximum(confirm, 0)], np.inf)
    closeout = float(np.max(enrolled + stays))
    if follow.kind == "event_driven":
        counted = np.sort((enrolled + confirmed_at)[confirmed_at <= stays])
        if counted.size >= follow.target_events:
            closeout = max(float(counted[follow.target_events - 1]), float(enrolled.max()))
    in_trial = np.clip(np.minimum(stays, closeout - enrolled), 0.0, None)
    event = confirmed_at <= in_trial + 1e-9
    onset_time = visits[np.maximum(onset, 0)]
    last_visit = np.searchsorted(visits, in_trial + 1e-9) - 1
    scans = scan_times(design)
    last_scan = np.searchsorted(scans, in_trial + 1e-9) - 1

    def at_scan(name):
        return np.array([c.mri[name][k] for c, k in zip(courses, last_scan)])

    def up_to_scan(name):
        return np.array([c.mri[name][1:k + 1].sum() for c, k in zip(courses, last_scan)])

    return TrialTable(
        arm=np.array([c.arm for c in courses]), time=np.where(event, onset_time, in_trial), event=event,
        follow_up=in_trial, baseline_edss=measured[:, 0], final_edss=measured[np.arange(count), last_visit],
        age=cohort.age, relapses=np.array([np.sum(c.relapse_times <= t) for c, t in zip(courses, in_trial)]),
        scan_years=scans[last_scan], new_or_enlarging=up_to_scan("new_lesions") + up_to_scan("enlarging"),
        sel=at_scan("sel"), rim_baseline=np.array([c.mri["rim_active"][0] for c in courses]),
        rim_final=at_scan("rim_active"), brain_volume_change=at_scan("brain_volume_change"), closeout=closeout)
