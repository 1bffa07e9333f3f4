"""Reading, overriding and validating TOML configs (validated once, here, at the edge)."""

from __future__ import annotations

import copy
import dataclasses
import tomllib
import typing
from pathlib import Path
from typing import Any

import tomli_w

from rimmodel.config.parameters import ModelConfig, SolverParameters
from rimmodel.config.petsc_policy import check_petsc_options
from rimmodel.config.solver_presets import SOLVER_PRESETS, preset_options
from rimmodel.config.spec import ConfigError, Spec, check_number, spec_of


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = (),
                schema: type = ModelConfig) -> ModelConfig:
    """Read a TOML file (or the defaults), apply ``section.key=value`` overrides, validate against
    ``schema`` (ModelConfig, or a subclass with more sections, e.g. for a new field)."""
    raw: dict = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as err:
            raise ConfigError(f"{path}: not UTF-8 text (TOML files are UTF-8): byte {err.start} "
                              f"is {err.object[err.start:err.start + 1]!r}") from None
        except OSError as err:
            raise ConfigError(f"{path}: cannot be read ({err.strerror})") from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: not valid TOML: {err}") from err
    for item in overrides:
        apply_override(raw, item)
    return config_from_dict(raw, schema)


def apply_override(raw: dict, item: str) -> None:
    """Set ``section.key=value`` in a raw config dict; the value is read as a TOML literal."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected section.key=value")
    dotted, text = item.split("=", 1)
    keys = dotted.strip().split(".")
    if len(keys) < 2 or not all(keys):
        raise ConfigError(f"--set {item!r}: expected section.key=value")
    try:
        value = tomllib.loads(f"value = {text.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        value = text.strip()  # bare words such as bdf1 are strings
    set_dotted(raw, dotted.strip(), value, context=f"--set {item!r}")


def set_dotted(raw: dict, dotted: str, value: Any, context: str = "") -> None:
    """Set ``raw[section][key] = value`` from ``section.key``."""
    keys = dotted.split(".")
    node = raw
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{context or dotted}: {key} is not a section")
    node[keys[-1]] = value


def config_from_dict(raw: dict, schema: type = ModelConfig) -> ModelConfig:
    config = build_section(schema, with_solver_preset(raw), prefix="")
    check_consistency(config)
    return config


def with_solver_preset(raw: dict) -> dict:
    """``raw`` with solver.petsc_options = the preset's options updated by the config's own.

    Resolved before validation because the field default cannot see the preset. Idempotent:
    a stored config.toml (preset name plus the full merged options) reads back unchanged.
    """
    solver = raw.get("solver") if isinstance(raw, dict) else None
    if not isinstance(solver, dict):
        return raw  # no [solver]: the defaults; not a table: build_section says so
    name = solver.get("preset", "direct")
    if not isinstance(name, str) or name not in SOLVER_PRESETS:
        raise ConfigError(f"solver.preset = {name!r} is not allowed: "
                          f"{spec_of(SolverParameters, 'preset').allowed()}")
    given = solver.get("petsc_options", {})
    if not isinstance(given, dict):
        return raw  # _petsc_options names the error
    return raw | {"solver": solver | {"petsc_options": preset_options(name) | given}}


def build_section(cls: type, raw: Any, prefix: str):
    """A validated dataclass from a raw TOML table; errors name ``prefix`` + key."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix or 'config'}: expected a table, got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ConfigError(f"{prefix}{unknown[0]}: unknown key; allowed keys in "
                          f"[{prefix.rstrip('.') or 'top level'}]: {', '.join(fields)}")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in raw.items():
        key = f"{prefix}{name}"
        spec = fields[name].metadata.get("spec")
        values[name] = _convert(key, value, hints[name], spec)
    return cls(**values)


def _convert(key: str, value: Any, hint: Any, spec: Spec | None):
    if hint is object:  # any TOML value, checked later against the key it stands for
        return value
    if dataclasses.is_dataclass(hint):
        return build_section(hint, value, prefix=f"{key}.")
    origin = typing.get_origin(hint)
    if origin is list:
        (item_type,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        if dataclasses.is_dataclass(item_type):
            return [build_section(item_type, item, prefix=f"{key}[{i}].") for i, item in enumerate(value)]
        if item_type is object:  # checked later against the key it stands for
            return list(value)
        if item_type is str:
            return [_convert(f"{key}[{i}]", item, str, spec) for i, item in enumerate(value)]
        return [check_number(f"{key}[{i}]", item, spec, float) for i, item in enumerate(value)]
    if hint is dict:
        if not key.endswith("petsc_options"):
            raise ConfigError(f"{key}: not a key of this table (see the documented layout)")
        return _petsc_options(key, value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        if spec.choices is not None and value not in spec.choices:
            raise ConfigError(f"{key} = {value!r} is not allowed: {spec.allowed()}")
        return value
    return check_number(key, value, spec, hint)


def _petsc_options(key: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a table of PETSc options, got {value!r}")
    for name, option in value.items():
        if not isinstance(option, (str, int, float, bool)):
            raise ConfigError(f"{key}.{name}: PETSc option values must be strings, numbers or "
                              f"booleans, got {option!r}")
    return dict(value)  # already merged onto the preset's options (with_solver_preset)


def check_consistency(config: ModelConfig) -> None:
    """Checks that involve more than one field."""
    from rimmodel.config.geometry_checks import check_geometry, check_lesion_seed
    from rimmodel.config.resource_checks import check_resources

    geometry, lesion, time = config.geometry, config.lesion, config.time
    if config.discretisation.mass_lumping and config.discretisation.degree != 1:
        raise ConfigError("discretisation.mass_lumping = true needs discretisation.degree = 1 "
                          "(vertex quadrature lumps only linear elements)")
    if time.dt_min > time.dt:
        raise ConfigError(f"time.dt_min = {time.dt_min} must not exceed time.dt = {time.dt}")
    check_geometry(geometry)
    check_lesion_seed(geometry, lesion)
    check_petsc_options(config.solver.petsc_options, config.solver.unsafe_petsc_options)
    check_resources(geometry, lesion, time)
    if config.treatment.stop <= config.treatment.start:
        raise ConfigError(f"treatment.stop = {config.treatment.stop} must be after treatment.start = "
                          f"{config.treatment.start} yr")
    if config.treatment.drug != "none" and (config.btk.schedule or config.btk.cns_occupancy
                                            or config.btk.peripheral_occupancy):
        raise ConfigError("treatment.drug and [btk] occupancy both set: the drug's course defines "
                          "occupancy; remove btk.cns_occupancy / peripheral_occupancy / schedule")
    starts = [step.start for step in config.btk.schedule]
    if starts != sorted(starts):
        raise ConfigError(f"btk.schedule: start times must increase, got {starts}")
    for i, patch in enumerate(config.follicles.patches):
        if len(patch.centre) not in (2, 3):
            raise ConfigError(f"follicles.patches[{i}].centre: expected 2 or 3 coordinates (mm), "
                              f"got {patch.centre}")


def config_to_dict(config: ModelConfig) -> dict:
    return copy.deepcopy(dataclasses.asdict(config))


def config_to_toml(config: ModelConfig) -> str:
    return tomli_w.dumps(config_to_dict(config))
