"""Field declarations: the model's fields are declared once and everything is derived from them."""

import dataclasses
import json
import re

import numpy as np
import pytest

from rimmodel.config.parameters import LesionParameters, parameter_symbols
from rimmodel.io.field_record import _CLASSIC, FieldRecordError, read_field_record
from rimmodel.physics.equations import AXONS, FIELDS, MODEL_SYMBOLS
from rimmodel.physics.fields import FieldSet

OPERATORS = {"d", "dt", "div", "grad", "n", "t", "x", "on", "the", "pia"}


def test_every_symbol_of_the_printed_equations_is_declared():
    declared = {f.symbol for f in FIELDS} | set(parameter_symbols()) | set(MODEL_SYMBOLS) | OPERATORS
    for f in FIELDS:
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", f.equation))
        rates = {f"d{other.symbol}" for other in FIELDS}
        assert words - declared - rates == set(), f.name


CLASSIC = ("microglia", "mediator", "follicle_factor", "myelin", "axons")  # the fields before fields.json


def test_the_classic_record_for_old_run_directories_matches_the_declarations():
    assert json.loads(_CLASSIC.read_text()) == FieldSet([FIELDS[name] for name in CLASSIC]).record()


def test_a_run_directory_without_a_record_reads_as_the_classic_fields(tmp_path):
    assert [entry["name"] for entry in read_field_record(tmp_path)] == list(CLASSIC)
    (tmp_path / "fields.json").write_text('{"format": "something else"}')
    with pytest.raises(FieldRecordError, match="fields.json: not a field record"):
        read_field_record(tmp_path)


def test_initial_values_come_from_background_and_core_declarations():
    lesion = LesionParameters()
    values = FIELDS.initial_values(np.array([0.0, 1.0]), lesion)
    assert values["myelin"].tolist() == pytest.approx([1.0, lesion.core_myelin], abs=1e-15)
    assert values["microglia"].tolist() == [0.0, lesion.core_microglia]
    assert values["mediator"].tolist() == [0.0, 0.0]
    assert FIELDS.healthy_state(3)[FIELDS.index("axons")].tolist() == [1.0, 1.0, 1.0]


def test_names_and_symbols_must_be_unique_and_unknown_names_are_named():
    with pytest.raises(ValueError, match="field names must be unique, repeated: axons"):
        FIELDS.with_field(AXONS)
    with pytest.raises(ValueError, match="field symbols must be unique, repeated: a"):
        FIELDS.with_field(dataclasses.replace(AXONS, name="astrocytes"))
    with pytest.raises(KeyError, match="no field 'astrocytes'"):
        FIELDS.index("astrocytes")
    with pytest.raises(ValueError, match="split must be one of"):
        dataclasses.replace(AXONS, split="fast")
    with pytest.raises(ValueError, match="field name 'domain' is reserved"):
        FieldSet([dataclasses.replace(AXONS, name="domain")])


def test_components_are_unpacked_by_name():
    assert FieldSet([AXONS]).split(["value"]) == {"axons": "value"}
    assert FIELDS.split(list(FIELDS.names)) == {name: name for name in FIELDS.names}
