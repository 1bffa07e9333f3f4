"""Where the model's parameter values come from: ``ParameterDraws``.

A source is a numbered set of parameter draws, each a ``{"section.key": value}`` override of the
base model config. Today: ``DefaultParameters`` (one draw: the declared defaults) and
``DrawsTable`` (a CSV whose header names config keys or equation symbols, one draw per row).
``PosteriorDraws`` reads the posterior of an ArviZ InferenceData netCDF file (what
``rimmodel calibrate`` writes, issue 18), variables named by config key or symbol, chains and draws
flattened. Every draw is validated against the model's declared ranges when the source is read.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Protocol

import numpy as np

from rimmodel.config import ConfigError, config_from_dict
from rimmodel.config.loading import set_dotted
from rimmodel.config.parameters import ModelConfig, parameter_symbols


# set by the trial design and the lesion library, never by a draw
TRIAL_SECTIONS = ("geometry", "lesion", "time", "treatment", "output", "solver", "discretisation", "observables")
TRIAL_KEYS = ("btk.cns_occupancy", "btk.peripheral_occupancy", "btk.schedule", "follicles.patches")


class ParameterDraws(Protocol):
    source: str

    def __len__(self) -> int: ...

    def overrides(self, index: int) -> dict[str, float]:
        """``{"section.key": value}`` of draw ``index`` (0 <= index < len)."""


class DefaultParameters:
    source = "defaults (the declared parameter values)"

    def __len__(self) -> int:
        return 1

    def overrides(self, index: int) -> dict[str, float]:
        return {}


class DrawsTable:
    """Draws given as columns of values; ``keep`` rows chosen evenly over the table."""

    def __init__(self, columns: dict[str, np.ndarray], source: str, keep: int = 0):
        lengths = {len(values) for values in columns.values()}
        if not columns or len(lengths) != 1 or lengths == {0}:
            raise ConfigError(f"{source}: needs at least one parameter column with one or more draws")
        total = lengths.pop()
        rows = np.arange(total) if keep <= 0 or keep >= total else np.unique(np.linspace(0, total - 1, keep).round())
        self.columns = {_config_key(name, source): np.asarray(values, float)[rows.astype(int)]
                        for name, values in columns.items()}
        self.source = f"{source} ({len(rows)} of {total} draws)"
        for index in range(len(self)):
            validate_overrides(self.overrides(index), f"{source}, draw {index}")

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    def overrides(self, index: int) -> dict[str, float]:
        return {key: float(values[index]) for key, values in self.columns.items()}


def read_csv_draws(path: Path, keep: int = 0) -> DrawsTable:
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if len(rows) < 2:
        raise ConfigError(f"{path}: expected a header of parameter names and one row per draw")
    header, body = rows[0], rows[1:]
    try:
        columns = {name.strip(): np.array([float(row[j]) for row in body]) for j, name in enumerate(header)}
    except (ValueError, IndexError) as error:
        raise ConfigError(f"{path}: every row needs one number per header column ({error})") from None
    return DrawsTable(columns, str(path), keep)


def read_posterior_draws(path: Path, keep: int = 0) -> DrawsTable:
    """The posterior group of an ArviZ InferenceData netCDF file (chain x draw flattened)."""
    try:
        import xarray
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ConfigError(f"{path}: reading posterior draws needs xarray (pip install arviz)") from error
    try:
        posterior = xarray.open_dataset(path, group="posterior")
    except (OSError, ValueError) as error:
        raise ConfigError(f"{path}: not an InferenceData file with a posterior group ({error})") from None
    with posterior:
        columns = {str(name): np.asarray(posterior[name].values, float).reshape(-1)
                   for name in posterior.data_vars if posterior[name].ndim == 2}
    return DrawsTable(columns, str(path), keep)


def load_draws(path: str, base_dir: Path, keep: int = 0) -> ParameterDraws:
    """``path`` ("" for the defaults) relative to the trial file's directory, inside it."""
    if not path:
        return DefaultParameters()
    relative = Path(path)
    if relative.is_absolute() or ".." in relative.parts:
        raise ConfigError(f"parameters.draws = {path!r}: give a path relative to the trial file's directory, "
                          "without '..' (a shared trial file reads nothing outside its place)")
    full = base_dir / relative
    if not full.is_file():
        raise ConfigError(f"parameters.draws = {path!r}: no such file beside the trial file ({full})")
    if full.suffix == ".csv":
        return read_csv_draws(full, keep)
    if full.suffix in (".nc", ".netcdf", ".h5"):
        return read_posterior_draws(full, keep)
    raise ConfigError(f"parameters.draws = {path!r}: expected a .csv table or an ArviZ .nc file")


def _config_key(name: str, source: str) -> str:
    """A column named ``section.key``, or by its equation symbol (``r_m``)."""
    if "." in name:
        return name
    symbols = parameter_symbols(ModelConfig)
    if name in symbols:
        section, key, _ = symbols[name]
        return f"{section}.{key}"
    raise ConfigError(f"{source}: column {name!r} is neither a config key (section.key) nor an equation "
                      f"symbol ({', '.join(sorted(symbols))})")


def validate_overrides(overrides: dict[str, float], context: str) -> None:
    raw: dict = {}
    for key, value in overrides.items():
        if key.split(".", 1)[0] in TRIAL_SECTIONS or key in TRIAL_KEYS:
            raise ConfigError(f"{context}: {key} is set by the trial, not by a parameter draw")
        set_dotted(raw, key, value, context)
    try:
        config_from_dict(raw)
    except ConfigError as error:
        raise ConfigError(f"{context}: {error}") from None
