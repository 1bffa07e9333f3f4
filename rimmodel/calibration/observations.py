"""The curated observation set (observations/*.toml): what was measured, how sure it is, and
which observation operator produces the model's counterpart.

Each entry's 90 % interval becomes a Gaussian observation error on the entry's likelihood
scale (log for positive rates and times, logit for fractions): sd = width / (2 * 1.645).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from rimmodel.config import ConfigError

ROLES = ("calibration", "validation", "not_used")
SCALES = ("linear", "log", "logit")
STATUSES = ("R", "D", "U")
LOG_FLOOR = 0.01     # log scale: values below 1 % of the observed value count as that
LOGIT_CLIP = 1e-3    # logit scale: shares are clipped to [0.001, 0.999]
Z90 = 1.6448536269514722  # standard normal 95th percentile: a 90 % interval spans +-Z90 sd
_REQUIRED = ("id", "quantity", "value", "interval", "interval_kind", "units", "population", "citation",
             "location", "status", "role", "scale", "operator")


@dataclass(frozen=True)
class Observation:
    id: str
    quantity: str
    value: float
    interval: tuple[float, float]
    interval_kind: str
    units: str
    population: str
    citation: str
    location: str
    status: str
    role: str
    scale: str
    operator: str
    arguments: dict = field(default_factory=dict)
    lower_bound_only: bool = False
    reason: str = ""

    def transform(self, x):
        """Map a model or observed value to the likelihood scale (log values floored at 1 % of the
        observed value: a model value of 0, e.g. "no rim ever", stays finite and far)."""
        return to_scale(x, self.scale, LOG_FLOOR * abs(self.value))

    @property
    def observed(self) -> float:
        return float(self.transform(self.value))

    @property
    def sd(self) -> float:
        """Observation error sd on the likelihood scale, from the 90 % interval."""
        low, high = (float(self.transform(v)) for v in self.interval)
        return (high - low) / (2 * Z90)


def to_scale(x, scale: str, floor: float = 1e-12):
    import numpy as np

    x = np.asarray(x, dtype=float)
    if scale == "log":
        return np.log(np.maximum(x, max(floor, 1e-12)))
    if scale == "logit":
        p = np.clip(x, LOGIT_CLIP, 1 - LOGIT_CLIP)
        return np.log(p / (1 - p))
    return x


def from_scale(z, scale: str):
    import numpy as np

    z = np.asarray(z, dtype=float)
    if scale == "log":
        return np.exp(z)
    if scale == "logit":
        return 1.0 / (1.0 + np.exp(-z))
    return z


def load_observations(path: str | Path, operators: tuple[str, ...] | None = None) -> dict[str, Observation]:
    """Every entry of an observation file, validated; ``operators``: the names allowed (None: any)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from error
    entries = raw.get("observation")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: expected [[observation]] entries")
    found: dict[str, Observation] = {}
    for index, entry in enumerate(entries):
        where = f"{path}: observation {entry.get('id', index)!r}"
        observation = _build(entry, where)
        if observation.id in found:
            raise ConfigError(f"{where}: duplicate id")
        if observation.role != "not_used" and operators is not None and observation.operator not in operators:
            raise ConfigError(f"{where}: operator {observation.operator!r} unknown; one of {', '.join(operators)}")
        found[observation.id] = observation
    return found


def _build(entry: dict, where: str) -> Observation:
    missing = [key for key in _REQUIRED if key not in entry]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)}")
    unknown = set(entry) - set(_REQUIRED) - {"arguments", "lower_bound_only", "reason"}
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}")
    for key, allowed in (("role", ROLES), ("scale", SCALES), ("status", STATUSES)):
        if entry[key] not in allowed:
            raise ConfigError(f"{where}: {key} = {entry[key]!r}; allowed: {', '.join(allowed)}")
    interval = entry["interval"]
    if not (isinstance(interval, list) and len(interval) == 2 and interval[0] < interval[1]):
        raise ConfigError(f"{where}: interval must be [low, high] with low < high, got {interval!r}")
    value = float(entry["value"])
    if not math.isfinite(value):
        raise ConfigError(f"{where}: value must be finite")
    if entry["role"] == "not_used" and not entry.get("reason"):
        raise ConfigError(f"{where}: a not_used entry needs a `reason`")
    if entry["scale"] in ("log", "logit") and min(interval) <= 0 and not entry.get("lower_bound_only"):
        raise ConfigError(f"{where}: scale {entry['scale']} needs a positive interval, got {interval!r}")
    return Observation(id=str(entry["id"]), quantity=entry["quantity"], value=value,
                       interval=(float(interval[0]), float(interval[1])), interval_kind=entry["interval_kind"],
                       units=entry["units"], population=entry["population"], citation=entry["citation"],
                       location=entry["location"], status=entry["status"], role=entry["role"],
                       scale=entry["scale"], operator=entry["operator"], arguments=dict(entry.get("arguments", {})),
                       lower_bound_only=bool(entry.get("lower_bound_only", False)), reason=entry.get("reason", ""))
