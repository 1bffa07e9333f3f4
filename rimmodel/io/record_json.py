"""A RunRecord as plain JSON, for checkpoints: data only, so reading a shared run directory runs no code.

Floats survive the round trip exactly (``json`` writes the shortest repr that reads back to the
same double, NaN and infinities included), so a resumed run's outputs are bit-identical.
Reading checks every field's type and the series' lengths: a crafted or damaged file is
refused with a ``ValueError`` saying which field is wrong.
"""

from __future__ import annotations

import json
from numbers import Real

import numpy as np

from rimmodel.io.results import RunRecord

STEP_FIELDS = {"time": float, "dt": float, "accepted": bool, "reason": str,
               "newton_iterations": int, "linear_iterations": int, "wall_time": float}


def record_to_json(record: RunRecord) -> str:
    data = dict(vars(record))
    if record.depth_bin_edges is not None:
        data["depth_bin_edges"] = np.asarray(record.depth_bin_edges, dtype=float).tolist()
    data["profiles"] = {name: [np.asarray(row, dtype=float).tolist() for row in rows]
                        for name, rows in record.profiles.items()}
    return json.dumps(data, default=_plain)


def record_from_json(text: str) -> RunRecord:
    """Raises ValueError naming the first field that is not what a run writes."""
    data = json.loads(text)
    _expect(isinstance(data, dict) and set(data) == set(RunRecord.__dataclass_fields__),
            "record", f"an object with the keys {sorted(RunRecord.__dataclass_fields__)}")
    _expect(_is_int(data["dimension"]) and data["dimension"] in (1, 2, 3), "dimension", "1, 2 or 3")
    for name in ("config_toml", "status", "reason"):
        _expect(isinstance(data[name], str), name, "a string")
    _expect(_string_map(data["units"], str), "units", "strings")
    _expect(isinstance(data["provenance"], dict), "provenance", "an object")
    time = _numbers(data["time"], "time")
    series = {name: _numbers(values, f"series.{name}", len(time)) for name, values in _map(data["series"], "series")}
    btk = {name: _numbers(values, f"btk.{name}", len(time)) for name, values in _map(data["btk"], "btk")}
    edges = None if data["depth_bin_edges"] is None else np.array(_numbers(data["depth_bin_edges"],
                                                                           "depth_bin_edges"), dtype=float)
    profiles = {name: _rows(rows, f"profiles.{name}", len(time)) for name, rows in _map(data["profiles"], "profiles")}
    _expect(isinstance(data["steps"], list), "steps", "a list")
    steps = [_step(step, f"steps[{index}]") for index, step in enumerate(data["steps"])]
    timing = dict(_numbers_map(data["timing"], "timing"))
    return RunRecord(dimension=data["dimension"], units=data["units"], provenance=data["provenance"],
                     config_toml=data["config_toml"], time=time, series=series, btk=btk, depth_bin_edges=edges,
                     profiles=profiles, steps=steps, timing=timing, status=data["status"], reason=data["reason"])


def _plain(value):
    """numpy scalars that json does not know (numpy floats are Python floats already)."""
    if isinstance(value, (np.integer, np.bool_)):
        return value.item()
    raise TypeError(f"a checkpoint record cannot hold {type(value).__name__}")


def _expect(condition: bool, field: str, wanted: str) -> None:
    if not condition:
        raise ValueError(f"field '{field}' is not {wanted}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _map(value, field: str):
    _expect(isinstance(value, dict), field, "an object")
    return value.items()


def _string_map(value, kind) -> bool:
    return isinstance(value, dict) and all(isinstance(item, kind) for item in value.values())


def _numbers(values, field: str, length: int | None = None) -> list[float]:
    _expect(isinstance(values, list) and all(_is_number(v) for v in values), field, "a list of numbers")
    _expect(length is None or len(values) == length, field, f"{length} long (one per output time)")
    return [float(v) for v in values]


def _numbers_map(values, field: str):
    for name, value in _map(values, field):
        _expect(_is_number(value), f"{field}.{name}", "a number")
        yield name, float(value)


def _rows(rows, field: str, length: int) -> list[np.ndarray]:
    _expect(isinstance(rows, list) and len(rows) == length, field, f"a list of {length} rows")
    return [np.array(_numbers(row, f"{field}[{index}]"), dtype=float) for index, row in enumerate(rows)]


def _step(step, field: str) -> dict:
    _expect(isinstance(step, dict) and set(step) == set(STEP_FIELDS), field,
            f"an object with the keys {sorted(STEP_FIELDS)}")
    checks = {float: _is_number, int: _is_int, bool: lambda v: isinstance(v, bool), str: lambda v: isinstance(v, str)}
    for key, kind in STEP_FIELDS.items():
        _expect(checks[kind](step[key]), f"{field}.{key}", f"a {kind.__name__}")
    return {key: float(step[key]) if kind is float else step[key] for key, kind in STEP_FIELDS.items()}
