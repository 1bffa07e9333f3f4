"""The calibration TOML: which parameters (priors), which observations, which method, design and seed.

    [calibration]
    model = "rimmodel"           # rimmodel | radial (batched spherical lesions) | linear_gaussian | logistic_growth
    observations = "../../observations/literature.toml"   # relative to this file
    calibrate = []               # observation ids fitted (default: every role = "calibration" entry)
    validate = []                # ids scored after the fit (default: every role = "validation" entry)
    method = "emulator"          # emulator (GP + history matching + emcee) | abc (ABC-SMC on the model)
    seed = 2026
    discrepancy = 0.1            # model-discrepancy sd on each observation's likelihood scale
    batch = 16                   # radial: samples whose cohorts are advanced together as one batch
    [design]  points, waves, candidates, cutoff
    [mcmc]    walkers, steps (cap), burn (least), autocorrelation_multiple, burn_autocorrelations,
              r_hat_max, ess_min, check_every, moves   (runs until converged; mcmc.py)
    [abc]     population, proposals, generations, acceptance
    [cohort]  lesions, years, heterogeneity, varies  (rimmodel, radial: the quantile cohort, operators.py)
    [model]   base model config (any section), on top of `base`
    [parameters."microglia.activation_rate"]  prior = "uniform", low = 1.2, high = 3.0

Everything is checked before any run: ids must exist with the right role, operators must be
known, priors must lie inside the declared parameter ranges.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from rimmodel.calibration.analytic import ANALYTIC_MODELS
from rimmodel.calibration.mcmc import MOVES, Convergence
from rimmodel.calibration.observations import Observation, load_observations
from rimmodel.calibration.operators import OPERATORS
from rimmodel.calibration.priors import Prior, build_prior
from rimmodel.config import ConfigError
from rimmodel.config.geometry_checks import RADIAL_KINDS
from rimmodel.config.loading import build_section
from rimmodel.config.spec import param

METHODS = ("emulator", "abc")
LESION_MODELS = ("rimmodel", "radial")  # a sample runs a cohort of lesions: on its geometry, or batched radially
MODELS = (*LESION_MODELS, *ANALYTIC_MODELS)
HETEROGENEITY = "cohort.heterogeneity"


@dataclass
class CalibrationSettings:
    model: str = param("rimmodel", "-", "What a sample runs: the FEM lesion cohort (rimmodel: on the model's "
                       "geometry; radial: isolated spherical lesions, many samples per batch) or an analytic "
                       "check model", choices=MODELS)
    observations: str = param("", "-", "Observation set TOML, relative to this file")
    calibrate: list[str] = param(None, "-", "Observation ids fitted (default: role = calibration)", factory=list)
    validate: list[str] = param(None, "-", "Observation ids scored after the fit (default: role = validation)",
                                factory=list)
    method: str = param("emulator", "-", "emulator: GP emulators, history matching, emcee; abc: ABC-SMC",
                        choices=METHODS)
    seed: int = param(2026, "-", "Seed of designs, MCMC and ABC", low=0, high=2**31 - 1)
    ranks_per_run: int = param(1, "-", "MPI ranks per model run", low=1, high=100_000)
    batch: int = param(16, "-", "radial: samples per batch (their cohorts advance together on one mesh)",
                       low=1, high=100_000)
    discrepancy: float = param(0.1, "likelihood scale", "Model-discrepancy sd on each observation's scale",
                               low=0.0, high=100.0)
    base: str = param("", "-", "Base model config TOML, relative to this file ('' for the defaults)")
    name: str = param("", "-", "Name of the calibrated parameter set (default: the file's stem)")


@dataclass
class DesignSettings:
    points: int = param(24, "-", "Model runs per history-matching wave", low=3, high=100_000)
    waves: int = param(2, "-", "History-matching waves (the first is a Latin hypercube on the prior)",
                       low=1, high=20)
    candidates: int = param(20_000, "-", "Sobol' candidates screened for the next wave", low=100, high=10_000_000)
    cutoff: float = param(3.0, "1", "Implausibility cutoff", low=0.5, high=10.0)


@dataclass
class MCMCSettings:
    walkers: int = param(32, "-", "emcee walkers", low=4, high=10_000)
    steps: int = param(200_000, "-", "Steps per walker at most: the sampler runs until it has converged or "
                       "reaches this cap (then reported as not converged)", low=10, high=10_000_000)
    burn: int = param(0, "-", "Burn-in steps discarded at least (the burn-in is burn_autocorrelations "
                      "autocorrelation times, or this if longer)", low=0, high=10_000_000)
    autocorrelation_multiple: float = param(50.0, "1", "Kept chain at least this many autocorrelation times "
                                            "long", low=1.0, high=10_000.0)
    burn_autocorrelations: float = param(5.0, "1", "Burn-in in autocorrelation times", low=0.0, high=1000.0)
    r_hat_max: float = param(1.01, "1", "Largest rank-normalised split R-hat accepted", low=1.0, high=2.0)
    ess_min: float = param(400.0, "-", "Smallest bulk and tail ESS accepted per parameter", low=1.0, high=1e9)
    check_every: int = param(1000, "-", "Steps between convergence checks (at least; then every fifth of "
                             "the chain)", low=10, high=10_000_000)
    moves: str = param("differential-evolution", "-", "emcee proposal: differential-evolution (DEMove 0.8 + "
                       "DESnookerMove 0.2, for ridges between parameters) or stretch (emcee's default)",
                       choices=MOVES)

    @property
    def convergence(self) -> Convergence:
        return Convergence(self.autocorrelation_multiple, self.burn_autocorrelations, self.r_hat_max,
                           self.ess_min, self.burn, self.check_every)


@dataclass
class ABCSettings:
    population: int = param(200, "-", "Particles per generation (at most)", low=2, high=1_000_000)
    proposals: int = param(800, "-", "Model runs per generation", low=2, high=10_000_000)
    generations: int = param(8, "-", "Generations at most (stops after the first at eps = 1)", low=1, high=100)
    acceptance: float = param(0.2, "1", "Target share of proposals accepted while eps > 1", low=0.001, high=1.0)


@dataclass
class CohortSettings:
    lesions: int = param(3, "-", "Lesions in the quantile cohort of each parameter set", low=1, high=1000)
    years: float = param(10.0, "yr", "Follow-up of every lesion (censoring horizon)", low=0.1, high=1000.0)
    heterogeneity: float = param(0.1, "1", "Log-sd sigma_L of the lesion-level parameter (a prior under "
                                 "[parameters.\"cohort.heterogeneity\"] calibrates it)", low=0.0, high=5.0)
    varies: str = param("microglia.activation_rate", "-", "The model parameter that differs between lesions")


@dataclass
class Calibration:
    path: Path
    settings: CalibrationSettings
    design: DesignSettings
    mcmc: MCMCSettings
    abc: ABCSettings
    cohort: CohortSettings
    priors: list[Prior]
    observations: dict[str, Observation]     # every entry of the observation file
    calibrate: list[Observation]
    validate: list[Observation]
    model_config: dict = field(default_factory=dict)
    source: str = ""

    @property
    def names(self) -> list[str]:
        return [prior.name for prior in self.priors]

    @property
    def outputs(self) -> list[Observation]:
        """Every observation a sample must produce: fitted ones, then validation ones."""
        return [*self.calibrate, *self.validate]

    @property
    def label(self) -> str:
        return self.settings.name or self.path.stem


def load_calibration(path: str | Path) -> Calibration:
    path = Path(path)
    try:
        text = path.read_text()
        raw = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from error
    tables = ("calibration", "design", "mcmc", "abc", "cohort", "model", "parameters")
    unknown = set(raw) - set(tables)
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {sorted(unknown)}; expected {', '.join(tables)}")
    settings = build_section(CalibrationSettings, raw.get("calibration", {}), prefix="calibration.")
    sections = {name: build_section(kind, raw.get(name, {}), prefix=f"{name}.")
                for name, kind in (("design", DesignSettings), ("mcmc", MCMCSettings), ("abc", ABCSettings),
                                   ("cohort", CohortSettings))}
    if sections["mcmc"].burn >= sections["mcmc"].steps:
        raise ConfigError(f"mcmc.burn = {sections['mcmc'].burn} must be below mcmc.steps = {sections['mcmc'].steps}")
    analytic = settings.model not in LESION_MODELS
    priors = [build_prior(key, table, model_keys=not analytic) for key, table in raw.get("parameters", {}).items()]
    if not priors:
        raise ConfigError(f"{path}: [parameters.*]: at least one calibrated parameter is needed")
    if analytic and any(p.name.startswith("cohort.") for p in priors):
        raise ConfigError(f"parameters: cohort.* parameters need a lesion model ({', '.join(LESION_MODELS)})")
    if not settings.observations:
        raise ConfigError("calibration.observations: give the observation set file")
    observations = load_observations(path.parent / settings.observations, tuple(OPERATORS) + ("analytic",))
    calibrate = _chosen(observations, settings.calibrate, "calibration", "calibration.calibrate")
    validate = _chosen(observations, settings.validate, "validation", "calibration.validate")
    if not calibrate:
        raise ConfigError("calibration.calibrate: no observation to fit")
    calibration = Calibration(path, settings, sections["design"], sections["mcmc"], sections["abc"],
                              sections["cohort"], priors, observations, calibrate, validate, source=text)
    calibration.model_config = _model_config(path, settings, raw.get("model", {})) if not analytic else {}
    if not analytic:
        _check_model(calibration)
    return calibration


def _chosen(observations: dict[str, Observation], ids: list[str], role: str, key: str) -> list[Observation]:
    if not ids:
        return [o for o in observations.values() if o.role == role]
    chosen = []
    for name in ids:
        if name not in observations:
            raise ConfigError(f"{key}: unknown observation {name!r}; one of {', '.join(observations)}")
        if observations[name].role != role:
            raise ConfigError(f"{key}: {name!r} has role {observations[name].role!r} in the observation file, "
                              f"not {role!r} (the split is fixed there, before any fit)")
        chosen.append(observations[name])
    return chosen


def _model_config(path: Path, settings: CalibrationSettings, inline: dict) -> dict:
    raw: dict = {"output": {"fields": False, "progress": False, "checkpoints": False}}
    layers = [inline]
    if settings.base:
        base = (path.parent / settings.base).resolve()
        try:
            layers.insert(0, tomllib.loads(base.read_text()))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"calibration.base: {base}: {error}") from error
    for layer in layers:
        for section, values in layer.items():
            if not isinstance(values, dict):
                raise ConfigError(f"model.{section}: expected a table")
            raw.setdefault(section, {}).update(values)
    if settings.model == "radial":
        kind = raw.setdefault("geometry", {}).setdefault("kind", RADIAL_KINDS[0])
        if kind not in RADIAL_KINDS:
            raise ConfigError(f"model.geometry.kind = {kind!r}: calibration.model = \"radial\" runs isolated "
                              f"spherical lesions; use one of {RADIAL_KINDS} or calibration.model = \"rimmodel\"")
    return raw


def _check_model(calibration: Calibration) -> None:
    """Every prior's extremes and the cohort's extreme lesions must make valid model configs."""
    from rimmodel.calibration.simulator import lesion_configs

    for observation in calibration.outputs:
        if observation.operator not in OPERATORS:
            raise ConfigError(f"observation {observation.id!r}: operator {observation.operator!r} is not a model "
                              f"operator; one of {', '.join(OPERATORS)}")
    from rimmodel.calibration.priors import declared_spec

    if declared_spec(calibration.cohort.varies) is None:
        raise ConfigError(f"cohort.varies = {calibration.cohort.varies!r}: not a model config key "
                          f"(see `rimmodel parameters`)")
    for prior in calibration.priors:
        for unit in (0.0, 1.0):
            values = {p.name: float(p.to_physical(0.5)) for p in calibration.priors}
            values[prior.name] = float(prior.to_physical(unit))
            lesion_configs(calibration, values, context=f"parameters.{prior.name!r} at {values[prior.name]:g}")
