"""The study's one results file, ``study.h5``, and reading it back (h5py only).

Layout::

    /parameters/names, unit_design (runs x D), values (runs x D, floats; a
        non-numeric discrete value is stored as its index, the list in attrs)
    /status (runs,) "completed" | "failed" | "pending";  /reason (runs,)
    /time (runs x T) yr, /observables/<name> (runs x T)   NaN-padded series, each with a "units" attribute
    /timing/wall_s, /timing/group, /timing/ranks       (vary run to run; "units" attributes s, 1, 1)
    attrs: model, sampler, samples, seed, second_order, morris_levels, study_toml
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from rimmodel.io.unreadable import hdf5_file

from rimmodel.study.journal import SampleOutcome
from rimmodel.study.sampling import numeric_matrix
from rimmodel.study.spec import Study

RESULTS_FILE = "study.h5"
TIMING_UNITS = {"wall_s": "s", "group": "1", "ranks": "1"}


def observable_units(outcomes: dict[int, SampleOutcome]) -> dict[str, str]:
    """Each observable's unit as its runs recorded it (journals from before units were kept have none)."""
    units: dict[str, str] = {}
    for outcome in outcomes.values():
        for name, unit in outcome.units.items():
            units.setdefault(name, unit)
    return units


def write_results(path: Path, study: Study, design: np.ndarray, samples: list[dict],
                  outcomes: dict[int, SampleOutcome]) -> None:
    """Atomically (re)write the results file from the journals. One rank only."""
    runs, names = len(samples), study.parameters.observables
    longest = max((len(o.time) for o in outcomes.values()), default=0)
    series = {name: np.full((runs, longest), np.nan) for name in ["time", *names]}
    status, reason = np.full(runs, "pending", dtype=object), np.full(runs, "", dtype=object)
    timing = {"wall_s": np.full(runs, np.nan), "group": np.full(runs, -1), "ranks": np.zeros(runs, dtype=int)}
    for index, outcome in outcomes.items():
        status[index], reason[index] = outcome.status, outcome.reason
        series["time"][index, :len(outcome.time)] = outcome.time
        for name in names:
            values = outcome.series.get(name, [])
            series[name][index, :len(values)] = values
        timing["wall_s"][index], timing["group"][index], timing["ranks"][index] = \
            outcome.wall_s, outcome.group, outcome.ranks
    scratch = path.with_name(f"{path.name}.{os.getpid()}.partial")
    with h5py.File(scratch, "w") as h5:
        _write_settings(h5, study)
        group = h5.create_group("parameters")
        group.create_dataset("names", data=np.array(study.names, dtype=object), dtype=h5py.string_dtype())
        group.create_dataset("unit_design", data=design)
        group.create_dataset("values", data=numeric_matrix(study, samples))
        group.attrs["discrete_values"] = json.dumps({n: d.values for n, d in study.distributions.items()
                                                     if d.distribution == "discrete"})
        h5.create_dataset("status", data=status, dtype=h5py.string_dtype())
        h5.create_dataset("reason", data=reason, dtype=h5py.string_dtype())
        h5.create_dataset("time", data=series.pop("time")).attrs["units"] = "yr"
        units = observable_units(outcomes)
        for name, values in series.items():
            dataset = h5.create_dataset(f"observables/{name}", data=values)
            if name in units:
                dataset.attrs["units"] = units[name]
        for name, values in timing.items():
            h5.create_dataset(f"timing/{name}", data=values).attrs["units"] = TIMING_UNITS[name]
    os.replace(scratch, path)


def _write_settings(h5: h5py.File, study: Study) -> None:
    settings = study.parameters
    for key in ("model", "sampler", "samples", "seed", "second_order", "morris_levels"):
        h5.attrs[key] = getattr(settings, key)
    h5.attrs["study_toml"] = study.source


@dataclass
class StudyResults:
    names: list[str]
    unit_design: np.ndarray
    values: np.ndarray
    status: np.ndarray
    reason: np.ndarray
    time: np.ndarray
    observables: dict[str, np.ndarray]
    settings: dict
    units: dict[str, str]         # observable -> unit ("time": "yr"); empty for older study files

    @property
    def completed(self) -> np.ndarray:
        return self.status == "completed"


def read_results(study_dir: str | Path) -> StudyResults:
    path = Path(study_dir) / RESULTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{study_dir} has no {RESULTS_FILE}: run `rimmodel study` on it first")
    with hdf5_file(path, "study results") as h5:
        text = lambda name: np.array([s.decode() if isinstance(s, bytes) else s for s in h5[name][()]])  # noqa: E731
        return StudyResults(names=list(text("parameters/names")), unit_design=h5["parameters/unit_design"][()],
                            values=h5["parameters/values"][()], status=text("status"), reason=text("reason"),
                            time=h5["time"][()], observables={k: v[()] for k, v in h5["observables"].items()},
                            settings=dict(h5.attrs),
                            units={k: str(v.attrs["units"]) for k, v in [("time", h5["time"]),
                                                                         *h5["observables"].items()]
                                   if "units" in v.attrs})
