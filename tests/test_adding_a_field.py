"""The "Adding a field" page runs: one more field is taken by the solver, the fieldsplit, the
manufactured-solution check and the run directory, with no edit outside its declaration."""

import os
import re
import runpy
from pathlib import Path

PAGE = Path(__file__).parents[1] / "docs" / "adding_a_field.py"


def test_the_page_states_the_files_touched():
    text = PAGE.read_text()
    assert re.search(r"Files touched to add a field to the package: 3\*\*", text)


def test_the_page_runs_and_its_claims_hold(shared_dir, monkeypatch):
    # the claims are asserts inside the page: running it (collectively, on every rank) is the check
    monkeypatch.setitem(os.environ, "RIMMODEL_PAGE_OUT", str(shared_dir))
    namespace = runpy.run_path(str(PAGE), run_name="adding_a_field")
    assert namespace["order"] > 1.8
    assert (shared_dir / "run" / "fields.json").is_file()
