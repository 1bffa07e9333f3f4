"""The teaching demos: valid jupytext notebooks that, executed in a Jupyter kernel, assert
their claims and show their figures inline; ``rimmodel demo`` lists them and refuses options
that only the reference demo takes."""

import subprocess
import sys
from pathlib import Path

import pytest

from rimmodel.teaching import OUT_VARIABLE, TEACHING_DIR, list_demos

BIN = Path(sys.executable).parent
DEMOS = ["01_chronic_active_rim", "02_surface_in_damage", "03_btk_inhibition", "04_stable_mri_worsening_function",
         "05_tissue_loss_and_iron", "06_lesion_vs_patient_endpoints"]
INLINE_FIGURES = {"01_chronic_active_rim": 3, "02_surface_in_damage": 1, "03_btk_inhibition": 1,
                  "04_stable_mri_worsening_function": 1, "05_tissue_loss_and_iron": 2,
                  "06_lesion_vs_patient_endpoints": 1}


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
def test_each_demo_executes_as_a_notebook_shows_its_figures_inline_and_its_claims_hold(stem, tmp_path, monkeypatch):
    """Run in a Jupyter kernel as a student would open it; the claims are asserts inside the
    notebook, so a failing claim fails the execution. Every figure it writes is also displayed."""
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    notebook = jupytext.read(TEACHING_DIR / f"{stem}.py")
    monkeypatch.setenv(OUT_VARIABLE, str(tmp_path))  # the kernel inherits the environment
    nbclient.NotebookClient(notebook, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
             if output.output_type == "display_data" and any(kind.startswith("image/") for kind in output.data)]
    assert len(shown) == INLINE_FIGURES[stem]
    written = [*tmp_path.glob("*.png"), *tmp_path.glob("*.gif")]
    assert len(written) == INLINE_FIGURES[stem]


def test_run_as_a_script_a_demo_names_its_figures_instead_of_showing_them(tmp_path, capsys):
    from rimmodel.teaching import show

    show(tmp_path / "figure.png")
    assert capsys.readouterr().out == f"figure: {tmp_path / 'figure.png'}\n"


@pytest.mark.serial
def test_teaching_demos_refuse_the_reference_demos_options():
    for option in (["--years", "2"], ["--set", "time.end=2"]):
        result = subprocess.run([str(BIN / "rimmodel"), "demo", "1", *option], capture_output=True, text=True)
        assert result.returncode == 2
        assert "--years and --set apply to the reference demo only" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.serial
def test_an_unknown_demo_is_refused_with_the_list():
    result = subprocess.run([str(BIN / "rimmodel"), "demo", "no_such_demo"], capture_output=True, text=True)
    assert result.returncode == 2 and "01_chronic_active_rim" in result.stderr
