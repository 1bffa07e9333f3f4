"""A run's field record, ``<run>/fields.json``: which fields the run wrote and how to draw each.

Read by the results layer (``rimmodel.io.field_record``, standard library only, so a viz-only
install reads it); runs written before the record existed read as the five classic fields.
"""

from rimmodel.io.field_record import FIELD_RECORD_FILE, FieldRecordError, read_field_record

__all__ = ["FIELD_RECORD_FILE", "FieldRecordError", "read_field_record"]
