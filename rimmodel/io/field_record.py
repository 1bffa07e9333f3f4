"""``fields.json``: what a run directory's fields are (names, units, bounds, how to draw them).

Written by every run from the equations' field declarations, so rimviz and ``rimmodel mri``
read a run's fields from the run itself and a viz-only install needs no DOLFINx. Run
directories written before the record existed get the record of the five original fields
(``classic_fields.json``, kept equal to the declarations by a test).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FIELD_RECORD_FILE = "fields.json"
FIELD_RECORD_FORMAT = "rimmodel-fields/1"
_CLASSIC = Path(__file__).with_name("classic_fields.json")


class FieldRecordError(ValueError):
    """A fields.json that is not a field record."""


def write_field_record(run_dir: Path, record: dict) -> None:
    """Serial I/O (call on one rank): written to a temporary name, then renamed."""
    path = Path(run_dir) / FIELD_RECORD_FILE
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(partial, path)


def read_field_record(run_dir: Path) -> list[dict]:
    """The run's field declarations as dicts (see docs/outputs.md), in component order."""
    path = Path(run_dir) / FIELD_RECORD_FILE
    if not path.is_file():
        path = _CLASSIC
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FieldRecordError(f"{path}: not a readable field record ({error})") from None
    if not isinstance(record, dict) or record.get("format") != FIELD_RECORD_FORMAT \
            or not isinstance(record.get("fields"), list):
        raise FieldRecordError(f"{path}: not a field record (expected format {FIELD_RECORD_FORMAT!r})")
    for i, entry in enumerate(record["fields"]):
        missing = [key for key in ("name", "unit", "bounds", "layer") if not isinstance(entry, dict) or key not in entry]
        if missing:
            raise FieldRecordError(f"{path}: fields[{i}] lacks {', '.join(missing)}")
    return record["fields"]
