"""Every reference config in experiments/ is valid."""

from pathlib import Path

import pytest

from rimmodel.config import load_config

EXPERIMENTS = sorted((Path(__file__).parent.parent / "experiments").glob("*.toml"))


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_reference_config_loads(path):
    load_config(path)


def test_there_are_reference_configs():
    assert len(EXPERIMENTS) >= 4
