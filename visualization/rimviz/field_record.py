"""A run's field record, ``<run>/fields.json`` (format ``rimmodel-fields/1``): which fields the run
wrote and how to draw each (label, colour map, limits, optional loss layer).

The results layer's reader (``rimmodel.io.field_record``, issue 14) is used when present. Without
it, this module reads the same format itself; run directories written before the record existed
get the record of the five classic fields, as there.
"""

from __future__ import annotations

import json
from pathlib import Path

FIELD_RECORD_FILE = "fields.json"
FIELD_RECORD_FORMAT = "rimmodel-fields/1"

_FRACTION = [0.0, 1.0]
CLASSIC_FIELDS = [  # the five fields every run wrote before fields.json existed
    {"name": "microglia", "symbol": "m", "unit": "1", "bounds": _FRACTION,
     "description": "activated microglia/macrophages, fraction of the local carrying capacity",
     "layer": {"label": "activated microglia (fraction of capacity)", "cmap": "inferno", "limits": None}},
    {"name": "mediator", "symbol": "c", "unit": "1", "bounds": [0.0, None],
     "description": "inflammatory mediators, in units of the half-saturation scale K_s",
     "layer": {"label": "inflammatory mediator (normalised)", "cmap": "magma", "limits": None}},
    {"name": "follicle_factor", "symbol": "f", "unit": "1", "bounds": [0.0, None],
     "description": "factors released by meningeal B-cell follicles, normalised as the mediator",
     "layer": {"label": "follicle factor (normalised)", "cmap": "plasma", "limits": None}},
    {"name": "myelin", "symbol": "y", "unit": "1", "bounds": _FRACTION, "description": "intact myelin fraction",
     "layer": {"label": "intact myelin (fraction)", "cmap": "cividis", "limits": _FRACTION,
               "loss": {"name": "myelin_loss", "label": "myelin loss (fraction)"}}},
    {"name": "axons", "symbol": "a", "unit": "1", "bounds": _FRACTION, "description": "intact axon fraction",
     "layer": {"label": "intact axons (fraction)", "cmap": "viridis", "limits": _FRACTION,
               "loss": {"name": "axon_loss", "label": "axon loss (fraction)"}}},
]


def _read_field_record(run_dir: str | Path) -> list[dict]:
    """The run's field declarations as dicts, in component order (the classic five without a record)."""
    path = Path(run_dir) / FIELD_RECORD_FILE
    if not path.is_file():
        return CLASSIC_FIELDS
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a readable field record ({error})") from None
    if not isinstance(record, dict) or record.get("format") != FIELD_RECORD_FORMAT \
            or not isinstance(record.get("fields"), list):
        raise ValueError(f"{path}: not a field record (expected format {FIELD_RECORD_FORMAT!r})")
    for i, entry in enumerate(record["fields"]):
        missing = [key for key in ("name", "unit", "bounds", "layer") if not isinstance(entry, dict) or key not in entry]
        if missing:
            raise ValueError(f"{path}: fields[{i}] lacks {', '.join(missing)}")
    return record["fields"]


try:  # issue 14's reader, once the results layer has it
    from rimmodel.io.field_record import read_field_record
except ModuleNotFoundError as missing:
    if missing.name != "rimmodel.io.field_record":
        raise
    read_field_record = _read_field_record

__all__ = ["CLASSIC_FIELDS", "FIELD_RECORD_FILE", "read_field_record"]
