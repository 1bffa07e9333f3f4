"""The trial file: a design as a trial protocol states it, validated at the edge.

Tables: ``[design]`` (name, seed, size, replicate trials), ``[population]`` with ``inclusion`` and
``natural_history``, ``[[arms]]`` (placebo is implicit), ``[randomisation]``, ``[visits]``,
``[follow_up]``, ``[endpoints]``, ``[disability]``, ``[calibration]``, ``[parameters]``,
``[lesion_library]``, ``[analysis]``, ``[[reference]]`` (published figures shown beside the
predictions) and ``[model.*]`` (base model overrides). Any unknown key, wrong type or out-of-range
value stops with one line naming the key and what is allowed.
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from rimmodel.config import ConfigError, config_from_dict
from rimmodel.config.loading import build_section
from rimmodel.config.spec import param
from rimmodel.config.treatment import TreatmentParameters
from rimmodel.patients.disability import DisabilityModel, Endpoints, check_model
from rimmodel.patients.library import LibrarySettings
from rimmodel.patients.population import (PHENOTYPE_DEFAULTS, PHENOTYPES, InclusionCriteria, NaturalHistory,
                                          check_history)

PLACEBO = "placebo"
ARM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
ENDPOINT_NAMES = ("cdw_hazard_ratio", "placebo_cdw_proportion", "treated_cdw_proportion", "t2_rate_ratio",
                  "placebo_t2_per_year", "treated_t2_per_year", "relapse_rate_ratio")


@dataclass
class DesignSection:
    name: str = param("virtual trial", "-", "Title of the report")
    seed: int = param(2025, "-", "Seed of every random draw", low=0, high=2**31 - 1)
    patients: int = param(200, "-", "Patients randomised", low=2, high=1_000_000)
    replicates: int = param(1, "-", "Independent repetitions of the whole trial (spread of its results)",
                            low=1, high=10_000)


@dataclass
class PopulationSection:
    phenotype: str = param("nrSPMS", "-", "MS course of the population", choices=PHENOTYPES)
    inclusion: InclusionCriteria = field(default_factory=InclusionCriteria)
    natural_history: object = None  # built after the phenotype is known (load_design)


@dataclass
class Arm(TreatmentParameters):
    """A treated arm: a BTK-inhibitor regimen, or an anti-inflammatory comparator."""

    name: str = param("arm", "-", "Arm label: letters, digits, '.', '_' or '-' (not 'placebo')")
    kind: str = param("btk", "-", "btk: a regimen through rimmodel.pharmacology, acting on rims and follicles; "
                      "anti_inflammatory: acts on new lesions and relapses only", choices=("btk", "anti_inflammatory"))
    allocation: int = param(1, "-", "Randomisation weight (placebo: randomisation.placebo_allocation)",
                            low=1, high=100)
    inflammation_rate_ratio: float = param(
        1.0, "1", "Rate of new lesions and relapses on this arm relative to placebo", low=0.0, high=10.0)
    inflammation_onset: float = param(0.0, "yr", "Delay before the effect on new lesions and relapses starts",
                                      low=0.0, high=10.0)


@dataclass
class Randomisation:
    placebo_allocation: int = param(1, "-", "Randomisation weight of placebo", low=1, high=100)
    block_size: int = param(0, "-", "Permuted-block size (0: twice the sum of the weights)", low=0, high=10000)


@dataclass
class Visits:
    edss_interval: float = param(0.25, "yr", "Interval between EDSS visits", low=0.02, high=2.0)
    mri_interval: float = param(1.0, "yr", "Interval between MRI scans", low=0.1, high=10.0)


@dataclass
class FollowUp:
    kind: str = param("fixed", "-", "fixed: everyone followed for `years`; event_driven: until `target_events` "
                      "confirmed events (each patient at most `years`)", choices=("fixed", "event_driven"))
    years: float = param(3.0, "yr", "Follow-up of each patient (event-driven: the most)", low=0.25, high=20.0)
    accrual: float = param(0.0, "yr", "Enrolment period (patients enrol evenly over it)", low=0.0, high=20.0)
    target_events: int = param(0, "-", "Confirmed events that end an event-driven trial", low=0, high=1_000_000)
    dropout: float = param(0.05, "1/yr", "Rate of leaving the trial early", source="assumed", low=0.0, high=5.0)


@dataclass
class CalibrationSection:
    placebo_event_proportion: float = param(
        0.0, "1", "Share of untreated patients with confirmed worsening by `follow_up` that the disability "
        "scale is calibrated to (0: use `scale`)", low=0.0, high=1.0)
    follow_up: float = param(2.5, "yr", "Time at which that share is reached", low=0.25, high=20.0)
    patients: int = param(2000, "-", "Size of the placebo calibration cohort (own random streams)",
                          low=50, high=1_000_000)
    scale: float = param(0.5, "EDSS", "Mean untreated worsening by disability.reference_time when not calibrated",
                         low=0.0, high=10.0)
    source: str = param("", "-", "Where the calibration target comes from")


@dataclass
class ParametersSection:
    draws: str = param("", "-", "Parameter draws (CSV or ArviZ netCDF beside the trial file; empty: defaults)")
    keep: int = param(8, "-", "Draws used, chosen evenly through the file (each needs its own lesion runs)",
                      low=1, high=10000)
    assignment: str = param("per_patient", "-", "per_patient: each patient a draw (patients differ in biology); "
                            "per_replicate: each replicate trial one draw (parametric uncertainty in the spread)",
                            choices=("per_patient", "per_replicate"))


@dataclass
class AnalysisSection:
    sensitivity: bool = param(True, "-", "Report the hazard ratio over the disability model's choices",
                              choices=(True, False))


@dataclass
class Reference:
    endpoint: str = param("cdw_hazard_ratio", "-", "Which prediction the published figure stands beside",
                          choices=ENDPOINT_NAMES)
    arm: str = param("", "-", "Treated arm it belongs to (placebo figures: any treated arm or empty)")
    value: float = param(0.0, "-", "Published value", low=-1e9, high=1e9)
    low: float = param(float("nan"), "-", "Lower end of its 95 % CI (nan: none)", low=-1e9, high=1e9)
    high: float = param(float("nan"), "-", "Upper end of its 95 % CI (nan: none)", low=-1e9, high=1e9)
    source: str = param("", "-", "Citation")


SECTIONS = {"design": DesignSection, "randomisation": Randomisation, "visits": Visits, "follow_up": FollowUp,
            "endpoints": Endpoints, "disability": DisabilityModel, "calibration": CalibrationSection,
            "parameters": ParametersSection, "lesion_library": LibrarySettings, "analysis": AnalysisSection}
MODEL_SECTIONS_SET_BY_TRIAL = ("geometry", "lesion", "treatment", "time", "output")


@dataclass
class TrialDesign:
    design: DesignSection
    population: PopulationSection
    arms: list[Arm]
    randomisation: Randomisation
    visits: Visits
    follow_up: FollowUp
    endpoints: Endpoints
    disability: DisabilityModel
    calibration: CalibrationSection
    parameters: ParametersSection
    lesion_library: LibrarySettings
    analysis: AnalysisSection
    references: list[Reference]
    model: dict
    source: str = ""             # the file's text (copied into the output)
    directory: Path = Path(".")  # where relative paths in the file are read from

    @property
    def history(self) -> NaturalHistory:
        return self.population.natural_history

    @property
    def horizon(self) -> float:
        return max(self.follow_up.years, self.calibration.follow_up)

    @property
    def arm_names(self) -> list[str]:
        return [PLACEBO, *(arm.name for arm in self.arms)]


def is_design_file(path: str | Path) -> bool:
    """A patient-level trial design (rather than the lesion-level ``[trial]`` format)."""
    try:
        return "design" in tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return False


def load_design(path: str | Path) -> TrialDesign:
    path = Path(path)
    try:
        text = path.read_text()
        raw = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from None
    return design_from_dict(raw, text, path.parent)


def design_from_dict(raw: dict, source: str = "", directory: Path = Path(".")) -> TrialDesign:
    raw = copy.deepcopy(raw)
    allowed = {*SECTIONS, "population", "arms", "reference", "model"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown table; allowed: {', '.join(sorted(allowed))}")
    sections = {name: build_section(cls, raw.get(name, {}), prefix=f"{name}.") for name, cls in SECTIONS.items()}
    population = _population(raw.get("population", {}))
    arms = _arms(raw.get("arms", []))
    references = _list(raw.get("reference", []), Reference, "reference")
    model = _model(raw.get("model", {}))
    design = TrialDesign(population=population, arms=arms, references=references, model=model, source=source,
                         directory=directory, **sections)
    _check(design)
    return design


def _population(raw: dict) -> PopulationSection:
    if not isinstance(raw, dict):
        raise ConfigError("population: expected a table")
    history_raw = raw.pop("natural_history", {}) if isinstance(raw.get("natural_history", {}), dict) else None
    if history_raw is None:
        raise ConfigError("population.natural_history: expected a table")
    population = build_section(PopulationSection, raw, prefix="population.")
    merged = PHENOTYPE_DEFAULTS[population.phenotype] | history_raw
    population.natural_history = build_section(NaturalHistory, merged, prefix="population.natural_history.")
    check_history(population.natural_history, "population.natural_history.")
    return population


def _list(raw, cls, name: str) -> list:
    if not isinstance(raw, list):
        raise ConfigError(f"{name}: expected a list of tables ([[{name}]])")
    return [build_section(cls, item, prefix=f"{name}[{i}].") for i, item in enumerate(raw)]


def _arms(raw) -> list[Arm]:
    arms = _list(raw, Arm, "arms")
    if not arms:
        raise ConfigError("arms: at least one treated arm is needed ([[arms]]; placebo is added)")
    seen: set[str] = set()
    for i, arm in enumerate(arms):
        key = f"arms[{i}]"
        if not ARM_NAME.fullmatch(arm.name):
            raise ConfigError(f"{key}.name = {arm.name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with "
                              "a letter or digit")
        if arm.name.lower() == PLACEBO or arm.name.lower() in seen:
            raise ConfigError(f"{key}.name = {arm.name!r}: arm names must be unique and not 'placebo' (placebo "
                              "is always included)")
        seen.add(arm.name.lower())
        if arm.kind == "btk" and arm.drug == "none":
            raise ConfigError(f"{key}.drug: a btk arm names a drug ({', '.join(_drugs())})")
        if arm.kind == "anti_inflammatory" and arm.drug != "none":
            raise ConfigError(f"{key}.drug = {arm.drug!r}: an anti_inflammatory arm takes no BTK drug "
                              '(drug = "none")')
        if arm.stop <= arm.start:
            raise ConfigError(f"{key}.stop = {arm.stop} must be after start = {arm.start} yr")
    return arms


def _drugs() -> list[str]:
    from rimmodel.config.treatment import DRUG_CHOICES

    return [name for name in DRUG_CHOICES if name != "none"]


def _model(raw) -> dict:
    if not isinstance(raw, dict):
        raise ConfigError("model: expected tables of model parameters ([model.microglia] ...)")
    for section in MODEL_SECTIONS_SET_BY_TRIAL:
        if section in raw:
            raise ConfigError(f"model.{section}: set by the trial (arms, follow-up, lesion library), not here")
    for key in ("cns_occupancy", "peripheral_occupancy", "schedule"):
        if key in raw.get("btk", {}):
            raise ConfigError(f"model.btk.{key}: occupancy comes from each arm's regimen")
    try:
        config_from_dict(raw)
    except ConfigError as error:
        raise ConfigError(f"model.{error}") from None
    return raw


def _check(design: TrialDesign) -> None:
    inclusion = design.population.inclusion
    if inclusion.edss_min > inclusion.edss_max:
        raise ConfigError(f"population.inclusion.edss_min = {inclusion.edss_min} exceeds "
                          f"edss_max = {inclusion.edss_max}")
    if inclusion.age_min > inclusion.age_max:
        raise ConfigError(f"population.inclusion.age_min = {inclusion.age_min} exceeds age_max = {inclusion.age_max}")
    if inclusion.relapses_min > inclusion.relapses_max:
        raise ConfigError(f"population.inclusion.relapses_min = {inclusion.relapses_min} exceeds relapses_max")
    follow = design.follow_up
    if follow.kind == "event_driven" and not 1 <= follow.target_events <= design.design.patients:
        raise ConfigError(f"follow_up.target_events = {follow.target_events}: an event-driven trial needs 1 to "
                          f"{design.design.patients} (the number randomised)")
    if design.visits.edss_interval > follow.years:
        raise ConfigError(f"visits.edss_interval = {design.visits.edss_interval} exceeds follow_up.years")
    check_model(design.disability)
    weights = design.randomisation.placebo_allocation + sum(arm.allocation for arm in design.arms)
    if design.randomisation.block_size % weights:
        raise ConfigError(f"randomisation.block_size = {design.randomisation.block_size}: use a multiple of the summed "
                          f"allocation weights ({weights}), or 0 for twice that")
    names = {arm.name for arm in design.arms}
    for i, reference in enumerate(design.references):
        if reference.arm and reference.arm not in names:
            raise ConfigError(f"reference[{i}].arm = {reference.arm!r} is not one of the arms ({', '.join(names)})")
