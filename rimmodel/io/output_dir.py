"""Check an output directory before anything runs: a file in the way is one line, not a traceback
from deep inside a run (or, under MPI, a hang while one rank fails to create it)."""

from __future__ import annotations

import os
from pathlib import Path

from rimmodel.config import ConfigError


def check_output_directory(path: str | Path, option: str = "--out") -> Path:
    """``path`` if it is, or can become, a writable directory; ConfigError naming it otherwise."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path}: a file is there, not a directory; choose another {option}")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{option} {path}: {existing} is a file, so no directory can be made there")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {path}: {existing} is not writable")
    return path
