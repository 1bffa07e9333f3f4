"""The resolved config as TOML with each key's unit, allowed range and meaning as a comment.

``rimmodel config`` prints this. The comments come from the same ``param`` declarations as
validation, so they cannot drift; the TOML itself is ``config_to_toml``'s, and loads back to
the same values.
"""

from __future__ import annotations

import dataclasses
import re
import typing

from rimmodel.config.loading import config_to_toml
from rimmodel.config.parameters import ModelConfig
from rimmodel.config.spec import Spec

_HEADER = re.compile(r"^\[\[?([^\]]+)\]\]?\s*$")
_KEY = re.compile(r"^([A-Za-z0-9_]+) = ")

PREAMBLE = ("# rimmodel config: resolved and validated. After each key: its unit, the allowed values\n"
            "# and what it means (`rimmodel parameters` has the sources). Lengths mm, times yr.\n\n")


def annotated_toml(config: ModelConfig) -> str:
    tables = table_specs()
    lines, current = [], {}
    for line in config_to_toml(config).splitlines():
        header = _HEADER.match(line)
        if header:
            current = tables.get(header.group(1), {})
        key = _KEY.match(line)
        if key and key.group(1) in current:
            line = f"{line}  # {describe(current[key.group(1)])}"
        lines.append(line)
    return PREAMBLE + "\n".join(lines) + "\n"


def describe(spec: Spec) -> str:
    unit = "" if spec.unit == "-" else f"{spec.unit}; "
    return f"{unit}{spec.allowed()}; {spec.doc}"


def table_specs() -> dict[str, dict[str, Spec]]:
    """TOML table name (``geometry``, ``follicles.patches``) -> key -> Spec."""
    tables: dict[str, dict[str, Spec]] = {}
    _collect(ModelConfig, "", tables)
    return tables


def _collect(cls: type, prefix: str, tables: dict) -> None:
    hints = typing.get_type_hints(cls)
    own = tables.setdefault(prefix.rstrip("."), {}) if prefix else None
    for field in dataclasses.fields(cls):
        kind = hints[field.name]
        element = typing.get_args(kind)[0] if typing.get_origin(kind) is list and typing.get_args(kind) else None
        if dataclasses.is_dataclass(kind):
            _collect(kind, f"{prefix}{field.name}.", tables)
            continue
        if own is not None:
            own[field.name] = field.metadata["spec"]
        if element is not None and dataclasses.is_dataclass(element):  # [[section.key]] tables
            _collect(element, f"{prefix}{field.name}.", tables)
