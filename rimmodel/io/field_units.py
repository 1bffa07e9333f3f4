"""What each output field is and its unit, from the run's field record (``fields.json``).

numpy/h5py-side code only: no FEM stack.
"""

from __future__ import annotations

from pathlib import Path

from rimmodel.io.field_record import read_field_record


def field_units(run_dir: str | Path) -> dict[str, dict]:
    """name -> {"unit": ..., "description": ...}; a field missing from the record gets unit ''."""
    return {entry["name"]: {"unit": entry.get("unit", ""), "description": entry.get("description", "")}
            for entry in read_field_record(run_dir)}
