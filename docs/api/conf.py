"""Sphinx configuration of the API reference (generated from the docstrings).

Build: sphinx-build -W -b html docs/api build/api   (tests/test_packaging.py does, warnings as errors)
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "visualization")]  # this checkout, not an installed copy

import rimmodel  # noqa: E402

project = "rimmodel"
author = "The rimmodel authors"
release = version = rimmodel.__version__
extensions = ["sphinx.ext.autodoc"]
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
nitpicky = False
html_theme = "alabaster"
html_title = f"rimmodel {version} API"
exclude_patterns = ["_build"]
