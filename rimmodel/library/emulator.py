"""Querying a lesion library: trajectories at new parameter values without solving.

Inputs are mapped to the unit box (loguniform parameters on a log scale); each series is
interpolated over the completed samples with scipy's ``RBFInterpolator`` (thin-plate spline
plus a linear polynomial, exact at the samples), all output times at once; volumes (mm^3) are
interpolated as their cube roots. The interpolant
is built on first use of a series. A query outside the library's box is refused, naming the
parameter and its range: extrapolation is not what the library was measured for.
benchmarks/lesion_library.py measures the query error against fresh solves.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from rimmodel.config import ConfigError
from rimmodel.library.layout import FORMAT, SINCE_VERSION_2, VERSION

DEFAULT_NEIGHBOURS = None  # a global fit: built once (O(n^3)), then O(n) per query point


class LesionLibrary:
    def __init__(self, path: str | Path, neighbours: int | None = DEFAULT_NEIGHBOURS):
        self.path = Path(path)
        try:
            with h5py.File(self.path, "r") as h5:
                if h5.attrs.get("format") != FORMAT:
                    raise ValueError(f"{self.path} is not a lesion library (format {h5.attrs.get('format')!r})")
                self.version = int(h5.attrs.get("version", 1))
                if self.version > VERSION:
                    raise ValueError(f"{self.path}: lesion library format version {self.version} was written by a "
                                     f"newer rimmodel; this one reads versions 1 to {VERSION}")
                attrs = h5["parameters"].attrs
                self.names = json.loads(attrs["names"])
                self.log_scale = np.array([d == "loguniform" for d in json.loads(attrs["distributions"])])
                self.low, self.high = np.array(json.loads(attrs["low"])), np.array(json.loads(attrs["high"]))
                completed = h5["status"][:] == b"completed"
                self.parameters = h5["parameters"][:][completed]
                self.times = h5["times"][:]
                self.series = {name: data[:][completed] for name, data in h5["series"].items()}
                self.units = {name: data.attrs["units"] for name, data in h5["series"].items()}
                self.failed = int((~completed).sum())
        except OSError as error:
            raise ValueError(f"{self.path}: cannot read the library ({error})") from error
        self.neighbours = None if neighbours is None or neighbours >= len(self.parameters) else neighbours
        self._interpolants = {}

    def unit(self, values: np.ndarray) -> np.ndarray:
        """Parameter values (m, p) to the unit box."""
        low, high, x = self.low.copy(), self.high.copy(), np.array(values, dtype=float)
        x[:, self.log_scale], low[self.log_scale], high[self.log_scale] = (
            np.log(x[:, self.log_scale]), np.log(low[self.log_scale]), np.log(high[self.log_scale]))
        return (x - low) / (high - low)

    def query(self, points, series=None) -> dict[str, np.ndarray]:
        """``points``: one ``{parameter: value}`` dict or a list of them (every library parameter);
        returns series name -> (m, times) (m = number of points)."""
        matrix = self._matrix([points] if isinstance(points, dict) else list(points))
        unit = self.unit(matrix)
        return {name: self._from_emulated(name, self._interpolant(name)(unit)) for name in (series or self.series)}

    def _volume_like(self, name: str) -> bool:
        return self.units[name] == "mm^3"

    def _to_emulated(self, name: str, values: np.ndarray) -> np.ndarray:
        """Volumes grow like r^3 across the box; their cube roots, like radii, vary far more evenly."""
        return np.cbrt(values) if self._volume_like(name) else values

    def _from_emulated(self, name: str, values: np.ndarray) -> np.ndarray:
        return np.maximum(values, 0.0) ** 3 if self._volume_like(name) else values

    def _matrix(self, points: list[dict]) -> np.ndarray:
        matrix = np.empty((len(points), len(self.names)))
        for i, point in enumerate(points):
            missing, extra = set(self.names) - set(point), set(point) - set(self.names)
            if missing or extra:
                raise ConfigError(f"library query: expected exactly the parameters {self.names}; "
                                  f"missing {sorted(missing)}, unknown {sorted(extra)}")
            for j, name in enumerate(self.names):
                value = float(point[name])
                if not (self.low[j] <= value <= self.high[j]):
                    raise ConfigError(f"library query: {name} = {value:g} is outside the library: allowed "
                                      f"[{self.low[j]:g}, {self.high[j]:g}] ({self.path.name})")
                matrix[i, j] = value
        return matrix

    def _interpolant(self, name: str):
        if name not in self._interpolants:
            from scipy.interpolate import RBFInterpolator

            if name not in self.series and name in SINCE_VERSION_2:
                raise ConfigError(f"library query: {self.path.name} (format version {self.version}) has no series "
                                  f"{name!r}: it was built before tissue and iron were stored; rebuild it with "
                                  f"`rimmodel library build`")
            if name not in self.series:
                raise ConfigError(f"library query: unknown series {name!r}; one of {', '.join(self.series)}")
            self._interpolants[name] = RBFInterpolator(self.unit(self.parameters),
                                                       self._to_emulated(name, self.series[name]),
                                                       neighbors=self.neighbours)
        return self._interpolants[name]
