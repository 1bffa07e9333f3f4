"""Read the fields a run wrote: the reader lives in the results layer, ``rimmodel.io.field_series``.

Re-exported here so that ``from rimviz.fields import read_fields, FieldSeries`` keeps working.
"""

from rimmodel.io.field_series import FIELDS_XDMF, FieldSeries, read_fields

__all__ = ["FIELDS_XDMF", "FieldSeries", "read_fields"]
