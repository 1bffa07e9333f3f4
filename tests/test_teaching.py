"""The teaching demos run as scripts, assert their claims, and are valid jupytext notebooks."""

import subprocess
import sys
from pathlib import Path

import pytest

from rimmodel.teaching import TEACHING_DIR, list_demos, run_teaching_demo

BIN = Path(sys.executable).parent
DEMOS = ["01_chronic_active_rim", "02_surface_in_damage", "03_btk_inhibition", "04_stable_mri_worsening_function",
         "05_tissue_loss_and_iron"]


def test_the_demos_are_listed():
    listed = subprocess.run([str(BIN / "rimmodel"), "demo", "--list"], capture_output=True, text=True, check=True)
    assert list(list_demos()) == DEMOS
    for stem in DEMOS:
        assert stem in listed.stdout


@pytest.mark.parametrize("stem", DEMOS)
def test_each_demo_is_a_notebook_with_its_claims_and_a_glossary(stem):
    jupytext = pytest.importorskip("jupytext")
    notebook = jupytext.read(TEACHING_DIR / f"{stem}.py")
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert sum(c.cell_type == "code" for c in notebook.cells) >= 3
    assert "What this demo claims" in markdown and "## Glossary" in markdown


@pytest.mark.serial
@pytest.mark.parametrize("stem", DEMOS)
def test_each_demo_runs_and_its_claims_hold(stem, tmp_path):
    # the claims are asserts inside the notebook: running it is the check
    namespace = run_teaching_demo(stem.split("_", 1)[0], tmp_path)
    assert namespace["out"] == tmp_path
    assert any(tmp_path.glob("*.png")) or any(tmp_path.glob("*.gif")) or (tmp_path / "mri").is_dir()


@pytest.mark.serial
def test_an_unknown_demo_is_refused_with_the_list():
    result = subprocess.run([str(BIN / "rimmodel"), "demo", "no_such_demo"], capture_output=True, text=True)
    assert result.returncode == 2 and "01_chronic_active_rim" in result.stderr
