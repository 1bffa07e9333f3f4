"""Read the fields a run wrote: the reader lives in the results layer, ``rimmodel.io.field_series``.

``read_fields`` gives what the renderers draw: the run's own mesh, or for a radial or
axisymmetric run the section through the lesion centre (``rimviz.symmetric_section``).
``from rimviz.fields import read_fields, FieldSeries`` keeps working.
"""

from __future__ import annotations

from pathlib import Path

from rimmodel.io.field_series import FIELDS_XDMF, FieldSeries
from rimmodel.io.field_series import read_fields as read_run_fields

__all__ = ["FIELDS_XDMF", "FieldSeries", "read_fields", "read_run_fields"]


def read_fields(run_dir: str | Path):
    """The run's fields as drawn: its own mesh, or a section through the centre of a symmetric run."""
    from rimviz.symmetric_section import drawable

    return drawable(read_run_fields(run_dir))
