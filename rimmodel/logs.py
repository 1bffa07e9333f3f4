"""Log levels for the command line: ``rimmodel -v`` (debug), default (info), ``-q`` (warnings only).

Messages go to the ``rimmodel`` logger: information to stdout (what a Slurm job's output file
collects), warnings and errors to stderr. Library use configures nothing: whoever imports
rimmodel decides with the ``logging`` module.
"""

from __future__ import annotations

import logging
import sys

LOGGER = "rimmodel"


class _BelowWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING


def configure_logging(verbosity: int) -> None:
    """``verbosity``: -1 quiet, 0 normal, 1 verbose (and above)."""
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    logger = logging.getLogger(LOGGER)
    for handler in list(logger.handlers):  # main() may be called more than once in a process (tests)
        logger.removeHandler(handler)
    out = logging.StreamHandler(sys.stdout)
    out.addFilter(_BelowWarning())
    out.setFormatter(logging.Formatter("%(message)s"))
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.WARNING)
    err.setFormatter(logging.Formatter("rimmodel: %(levelname)s: %(message)s"))
    logger.addHandler(out)
    logger.addHandler(err)
    logger.setLevel(level)
    logger.propagate = False


def quiet() -> bool:
    """True when the rimmodel logger was set to show warnings only (``-q``)."""
    return logging.getLogger(LOGGER).level > logging.INFO
