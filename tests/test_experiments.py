"""Every reference config in experiments/ is valid (trial_*.toml are trial configs or trial designs)."""

from pathlib import Path

import pytest

from rimmodel.config import load_config
from rimmodel.patients.design import is_design_file, load_design
from rimmodel.trial.config import load_trial

EXPERIMENTS = sorted((Path(__file__).parent.parent / "experiments").glob("*.toml"))


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_reference_config_loads(path):
    if path.stem.startswith("trial_") and is_design_file(path):
        assert load_design(path).arms
    elif path.stem.startswith("trial_"):
        assert load_trial(path).arms
    else:
        load_config(path)


def test_there_are_reference_configs():
    assert len(EXPERIMENTS) >= 4
