"""Configs are validated once, on load, with errors that name the key and the allowed range."""

import pytest

from rimmodel.cli import main
from rimmodel.config import ConfigError, config_from_dict, config_to_toml, load_config
from rimmodel.pharmacology.schedule import PiecewiseConstantOccupancy


def error_for(raw: dict) -> str:
    with pytest.raises(ConfigError) as info:
        config_from_dict(raw)
    return str(info.value)


def test_defaults_are_valid_and_round_trip(tmp_path):
    config = load_config()
    path = tmp_path / "resolved.toml"
    path.write_text(config_to_toml(config))
    assert load_config(path) == config


def test_unknown_key_is_named_with_the_allowed_keys():
    message = error_for({"microglia": {"difusivity": 1.0}})
    assert "microglia.difusivity" in message and "diffusivity" in message


def test_unknown_section_is_named():
    assert "microglias" in error_for({"microglias": {}})


def test_wrong_type_names_key_and_range():
    message = error_for({"microglia": {"diffusivity": "fast"}})
    assert "microglia.diffusivity" in message and "[0, 1000]" in message


def test_out_of_range_names_key_range_and_unit():
    message = error_for({"btk": {"cns_occupancy": 1.5}})
    assert "btk.cns_occupancy" in message and "[0, 1]" in message


def test_integer_field_rejects_fractions():
    assert "observables.depth_bins" in error_for({"observables": {"depth_bins": 2.5}})


def test_choice_field_lists_choices():
    message = error_for({"time": {"scheme": "rk4"}})
    assert "time.scheme" in message and "'bdf2'" in message


def test_nested_table_errors_carry_their_index():
    message = error_for({"follicles": {"patches": [{"centre": [1.0, 7.0]}, {"width": -1.0}]}})
    assert "follicles.patches[1].width" in message


def test_cross_field_rules():
    assert "mass_lumping" in error_for({"discretisation": {"degree": 2}})
    assert "time.dt_min" in error_for({"time": {"dt": 0.01, "dt_min": 0.1}})
    assert "lesion.centre_x" in error_for({"lesion": {"centre_x": 50.0}})
    assert "btk.schedule" in error_for({"btk": {"schedule": [{"start": 2.0}, {"start": 1.0}]}})


def test_overrides_are_parsed_as_toml_values():
    config = load_config(None, ["btk.cns_occupancy=0.8", "time.scheme=bdf1",
                                "follicles.patches=[{centre=[1.0, 7.0], width=0.5}]"])
    assert config.btk.cns_occupancy == 0.8
    assert config.time.scheme == "bdf1"
    assert config.follicles.patches[0].width == 0.5
    with pytest.raises(ConfigError, match="section.key=value"):
        load_config(None, ["nokey"])


def test_bad_toml_file_is_reported(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[microglia\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_cli_rejects_bad_config_before_writing_anything(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("[myelin]\nmicroglial_damage_rate = -1.0\n")
    out = tmp_path / "never"
    assert main(["run", str(config), "--out", str(out)]) == 2
    assert "myelin.microglial_damage_rate" in capsys.readouterr().err
    assert not out.exists()


def test_occupancy_schedule_is_piecewise_constant_and_untreated_before_start():
    config = load_config(None, ["btk.schedule=[{start=2.0, cns=0.8, peripheral=0.9}, "
                                "{start=5.0, cns=0.0, peripheral=0.0}]"])
    course = PiecewiseConstantOccupancy.from_parameters(config.btk)
    assert [course.cns(t) for t in (0.0, 1.99, 2.0, 2.01, 4.9, 5.0, 5.01, 9.0)] == [0.0, 0.0, 0.0, 0.8, 0.8, 0.8,
                                                                                    0.0, 0.0]
    assert course.peripheral(3.0) == 0.9
    assert course.breakpoints() == (2.0, 5.0)


def test_parameter_table_in_docs_is_current():
    from pathlib import Path

    from rimmodel.config.table import with_table

    document = (Path(__file__).parent.parent / "docs" / "model.md").read_text()
    assert with_table(document) == document, "run: rimmodel parameters --update docs/model.md"
