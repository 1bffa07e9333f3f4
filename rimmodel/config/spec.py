"""Declaring parameters: every field carries its unit, allowed range and source.

A parameter is declared once, with ``param(...)``; validation, the ``--set``
command-line overrides and the parameter table in ``docs/model.md`` all read
the same declaration, so they cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import math
import unicodedata
from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """A configuration value is unknown, of the wrong type or out of range.

    Always one line: messages quote what the user wrote, and a key or value holding a line
    break or another control character is shown escaped (as Python would) instead."""

    def __init__(self, message: str = ""):
        super().__init__("".join(_escaped(character) for character in str(message)))


def _escaped(character: str) -> str:
    if unicodedata.category(character) not in ("Cc", "Zl", "Zp"):
        return character
    return repr(character)[1:-1]


@dataclass(frozen=True)
class Spec:
    """What a parameter means and which values it may take."""

    unit: str
    doc: str
    source: str = "assumed"
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    symbol: str | None = None  # how the equations write it (model parameters only)

    def allowed(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"[{low}, {high}]"


def param(default: Any, unit: str, doc: str, *, source: str = "assumed",
          low: float | None = None, high: float | None = None,
          choices: tuple | None = None, factory=None, symbol: str | None = None):
    """A dataclass field with a :class:`Spec` attached; ``symbol`` names it in the equations."""
    spec = Spec(unit=unit, doc=doc, source=source, low=low, high=high, choices=choices, symbol=symbol)
    if factory is not None:
        return field(default_factory=factory, metadata={"spec": spec})
    return field(default=default, metadata={"spec": spec})


def spec_of(section_cls: type, name: str) -> Spec:
    for f in dataclasses.fields(section_cls):
        if f.name == name:
            return f.metadata["spec"]
    raise KeyError(name)


def check_number(key: str, value: Any, spec: Spec, kind: type) -> float | int:
    """Coerce and range-check one numeric value; ``key`` names it in errors."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key}: expected a number ({spec.unit}) in {spec.allowed()}, "
                          f"got {value!r}")
    if kind is int and not float(value).is_integer():
        raise ConfigError(f"{key}: expected a whole number in {spec.allowed()}, got {value!r}")
    value = kind(value)
    if not math.isfinite(value):
        raise ConfigError(f"{key}: must be finite, allowed range {spec.allowed()}, got {value!r}")
    if (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        raise ConfigError(f"{key} = {value!r} is out of range: allowed {spec.allowed()} {spec.unit}")
    return value
