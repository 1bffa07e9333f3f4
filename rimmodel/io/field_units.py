"""What each output field is and its unit, from the run's field record.

A run directory's ``fields.json`` (format ``rimmodel-fields/1``) lists its fields with
unit and description. ``rimmodel.io.field_record.read_field_record`` reads it where it
exists; older run directories have no record and hold the five classic fields below.
numpy/h5py-side code only: no FEM stack.
"""

from __future__ import annotations

import json
from pathlib import Path

FIELD_RECORD_FILE = "fields.json"

# The record of run directories written before fields.json existed.
CLASSIC_FIELDS = (
    {"name": "microglia", "symbol": "m", "unit": "1",
     "description": "activated microglia (fraction of local capacity)"},
    {"name": "mediator", "symbol": "c", "unit": "1", "description": "inflammatory mediator (normalised)"},
    {"name": "follicle_factor", "symbol": "f", "unit": "1", "description": "follicle factor (normalised)"},
    {"name": "myelin", "symbol": "y", "unit": "1", "description": "intact myelin (fraction)"},
    {"name": "axons", "symbol": "a", "unit": "1", "description": "intact axons (fraction)"},
)


def field_record(run_dir: str | Path) -> list[dict]:
    """The run's fields, each a dict with at least name, unit and description."""
    try:
        from rimmodel.io.field_record import read_field_record
    except ImportError:  # the reader of issue 14; until it is there, read the file directly
        return _read_record_file(Path(run_dir))
    return read_field_record(run_dir)


def field_units(run_dir: str | Path) -> dict[str, dict]:
    """name -> {"unit": ..., "description": ...}; a field missing from the record gets unit ''."""
    return {entry["name"]: {"unit": entry.get("unit", ""), "description": entry.get("description", "")}
            for entry in field_record(run_dir)}


def _read_record_file(run_dir: Path) -> list[dict]:
    path = run_dir / FIELD_RECORD_FILE
    if not path.is_file():
        return [dict(entry) for entry in CLASSIC_FIELDS]
    try:
        return list(json.loads(path.read_text())["fields"])
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not a rimmodel field record ({error})") from error
