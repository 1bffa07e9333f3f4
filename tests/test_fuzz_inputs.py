"""Property-based fuzzing of everything a user or a colleague hands rimmodel: config files, `--set`,
study files, trial files and checkpoint records. Every input is either loaded or refused with a one-line ConfigError
naming the key (or the file); nothing else escapes and nothing is written. Loaders only: no solves.

Example counts are in README.md (Testing). No example database is kept and the seed is random, so
every run tries new inputs; a failure prints the input that caused it.
"""

import dataclasses
import copy
import json
import math
import os
import re
import tomllib
import typing
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, settings, strategies as st

from rimmodel.config import ConfigError, ModelConfig, config_to_dict, load_config
from rimmodel.config.solver_presets import SOLVER_PRESETS
from rimmodel.study.spec import load_study
from rimmodel.trial.config import load_trial

# examples per input kind in the test suite; RIMMODEL_FUZZ_SCALE=20 explores 20x as many locally
SCALE = float(os.environ.get("RIMMODEL_FUZZ_SCALE", "1"))
EXAMPLES = {kind: max(int(count * SCALE), 1) for kind, count in
            {"set": 200, "config": 150, "bytes": 100, "study": 100, "trial": 80, "record": 150}.items()}
FUZZ = {"deadline": None, "database": None,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]}


def _keys(cls, prefix="") -> list[str]:
    found = []
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if dataclasses.is_dataclass(hints[field.name]):
            found += _keys(hints[field.name], f"{prefix}{field.name}.")
        else:
            found.append(f"{prefix}{field.name}")
    return found


KEYS = _keys(ModelConfig)
SECTIONS = sorted({key.split(".")[0] for key in KEYS})
# A message names a key if it starts with one, holds a dotted key, --set or a file
NAMED = re.compile(r"\b(" + "|".join(SECTIONS + ["study", "parameters", "trial", "model"]) + r")\.\S"
                   r"|--set|\.toml|\[model\]|^[^\s:=]+( = [^:]*)?: ")  # the convention: "key: why", "key = v: why"

scalars = st.one_of(
    st.integers(min_value=-2**63, max_value=2**63 - 1), st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-10, max_value=10), st.booleans(), st.text(max_size=12),
    st.sampled_from(["bdf1", "bdf2", "direct", "iterative_3d", "cortical_slab", "mni_brain", "file", "tolebrutinib",
                     "ascii:/tmp/x", "python", "../..", "/etc/passwd", "placebo", "saltelli", "latin"]))
values = st.one_of(scalars, st.lists(scalars, max_size=4),
                   st.dictionaries(st.text(min_size=1, max_size=8), scalars, max_size=3))
keys = st.one_of(st.sampled_from(KEYS), st.sampled_from(KEYS).map(lambda k: k + "x"),
                 st.sampled_from([f"solver.petsc_options.{name}" for name in
                                  ["snes_view", "pc_type", "ksp_rtol", "options_file", "fieldsplit_0_pc_type",
                                   "ksp_monitor", "pc_python_type", "-log_view"]]),
                 st.text(alphabet="abcdefghijklmnopqrstuvwxyz_.", min_size=1, max_size=20))


def _literal(value) -> str:
    """``value`` as `--set` text: TOML where possible, else the raw text (bare words are strings)."""
    try:
        return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()
    except (TypeError, ValueError, IndexError):  # a table is not an inline value
        return str(value)


def _assert_refused_well(error: ConfigError, *names: str) -> None:
    message = str(error)
    assert message and "\n" not in message, repr(message)
    assert any(name and name in message for name in names) or NAMED.search(message), message


def _loads_or_refuses(load, *args, names=(), directory: Path | None = None) -> None:
    before = sorted(directory.rglob("*")) if directory else None
    try:
        load(*args)
        event("loaded")
    except ConfigError as error:
        event("refused")
        _assert_refused_well(error, *names)
    if directory:
        assert sorted(directory.rglob("*")) == before, "a loader wrote files"


REPO = Path(__file__).resolve().parents[1]


def _leaves(node, path=()):
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list) and node and all(isinstance(item, dict) for item in node):
        for index, item in enumerate(node):
            yield from _leaves(item, (*path, index))
    else:
        yield path, node


def _perturbed(value):
    """Values near ``value``: mostly the same type, now and then anything."""
    if isinstance(value, bool):
        return st.one_of(st.booleans(), scalars)
    if isinstance(value, (int, float)):
        factors = st.sampled_from([0.0, -1.0, 1e-9, 0.5, 0.99, 1.01, 2.0, 10.0, 1e6, math.nan, math.inf])
        kind = int if isinstance(value, int) else float
        return st.one_of(factors.map(lambda f: _scaled(kind, value, f)), scalars)
    if isinstance(value, list):
        return st.one_of(st.lists(st.floats(min_value=-300, max_value=300), max_size=4), values)
    return st.one_of(scalars, st.just(value))


def _scaled(kind, value, factor):
    scaled = value * factor if math.isfinite(factor) or value else factor
    if kind is int and math.isfinite(scaled):
        return int(scaled) if abs(scaled) < 2**62 else 2**62
    return scaled


@st.composite
def mutations_of(draw, base: dict, max_changes: int = 3):
    """``base`` (a valid document) with a few leaves changed, removed or added: inputs that get past
    the first checks and exercise the deep ones."""
    document = copy.deepcopy(base)
    leaves = list(_leaves(document))
    for _ in range(draw(st.integers(min_value=0, max_value=max_changes))):
        path, value = draw(st.sampled_from(leaves))
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["change", "change", "change", "remove", "add"]))
        if action == "change":
            parent[path[-1]] = draw(_perturbed(value))
        elif action == "remove" and isinstance(parent, dict):
            parent.pop(path[-1], None)
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "Kind", "mesh_size ", "end"]))] = draw(scalars)
    return document


def _shipped(relative: str) -> dict:
    return tomllib.loads((REPO / relative).read_text())


DEFAULTS = dict(_leaves(config_to_dict(load_config())))


@settings(max_examples=EXAMPLES["set"], **FUZZ)
@given(items=st.lists(st.one_of(
    st.tuples(keys, st.one_of(values.map(_literal), st.text(max_size=30)), st.booleans()),
    st.sampled_from(sorted(DEFAULTS)).flatmap(lambda path: st.tuples(
        st.just(".".join(map(str, path))), _perturbed(DEFAULTS[path]).map(_literal), st.just(False)))),
    min_size=1, max_size=3))
def test_set_overrides(items):
    overrides = [f"{key}={value}" if not raw else f"{key}{value}" for key, value, raw in items]
    _loads_or_refuses(load_config, None, overrides, names=(*(key for key, _, _ in items), "--set"))


def _config_documents():
    table = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)
    nested = table.map(lambda flat: _nest(flat))
    noise = st.dictionaries(st.sampled_from(SECTIONS + ["extra", "time", "solver"]),
                            st.one_of(values, st.dictionaries(st.text(min_size=1, max_size=10), values, max_size=3)),
                            max_size=3)
    return st.tuples(nested, noise).map(lambda pair: {**pair[1], **pair[0]})


def _nest(flat: dict) -> dict:
    nested: dict = {}
    for dotted, value in flat.items():
        node = nested
        *parents, last = dotted.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return nested


CONFIG_BASES = [config_to_dict(load_config())] + [_shipped(f"experiments/{name}.toml") for name in (
    "reference_untreated", "periventricular", "juxtacortical_sulcus", "mni_juxtacortical_2d", "tolebrutinib_like_60mg")]


@settings(max_examples=EXAMPLES["config"], **FUZZ)
@given(document=st.one_of(_config_documents(), *(mutations_of(base) for base in CONFIG_BASES)))
def test_config_files(tmp_path_factory, document):
    directory = tmp_path_factory.mktemp("config")
    path = directory / "shared.toml"
    path.write_text(tomli_w.dumps(document))
    _loads_or_refuses(load_config, path, names=(str(path),), directory=directory)


@settings(max_examples=EXAMPLES["bytes"], **FUZZ)
@given(data=st.binary(max_size=200), cut=st.integers(min_value=0, max_value=400),
       base=st.sampled_from(["experiments/reference_untreated.toml", "experiments/studies/rim_sensitivity.toml",
                             "experiments/trial_tolebrutinib_like.toml"]))
def test_damaged_files_of_every_kind(tmp_path_factory, data, cut, base):
    """A shipped file, truncated and with random bytes appended: loaded or refused, naming the file."""
    directory = tmp_path_factory.mktemp("damaged")
    path = directory / "damaged.toml"
    text = (Path(__file__).resolve().parents[1] / base).read_bytes()
    path.write_bytes(text[:cut] + data)
    load = {"experiments/reference_untreated.toml": load_config,
            "experiments/studies/rim_sensitivity.toml": load_study,
            "experiments/trial_tolebrutinib_like.toml": load_trial}[base]
    _loads_or_refuses(load, path, names=(str(path),), directory=directory)


distributions = st.fixed_dictionaries({}, optional={
    "distribution": st.sampled_from(["uniform", "loguniform", "normal", "discrete", "fixed", "beta"]),
    "low": st.one_of(st.floats(allow_nan=True), st.sampled_from([0.0, 0.02, 1.0])),
    "high": st.one_of(st.floats(allow_nan=True), st.sampled_from([0.1, 0.5, 3.0])),
    "mean": st.floats(min_value=-5, max_value=5), "std": st.floats(min_value=-1, max_value=2),
    "values": st.lists(scalars, max_size=3), "value": scalars, "extra": scalars})
study_settings = st.fixed_dictionaries({}, optional={
    "sampler": st.sampled_from(["saltelli", "latin", "morris", "grid", "sobol", ""]),
    "samples": st.one_of(st.integers(min_value=-3, max_value=70), st.just(2**40)),
    "seed": st.integers(min_value=-2, max_value=2**32), "model": st.sampled_from(["rimmodel", "ishigami", "x"]),
    "observables": st.lists(st.sampled_from(["lesion_equivalent_radius", "rim_thickness", "y", "rim"]), max_size=3),
    "ranks_per_run": st.integers(min_value=-1, max_value=4), "second_order": scalars, "base": st.sampled_from(
        ["", "../reference_untreated.toml", "/etc/passwd", "missing.toml"]), "unknown": scalars})


random_studies = st.builds(
    lambda study, parameters, model, extra: {"study": study, "parameters": parameters, "model": model}
    | ({"results": {"a": 1}} if extra else {}),
    study_settings, st.one_of(st.dictionaries(st.sampled_from(KEYS[:40] + ["x1", "x2", "x3", "nonsense"]),
                                              distributions, max_size=3), scalars),
    st.one_of(_config_documents(), scalars), st.booleans())
STUDY_BASES = [_shipped("experiments/studies/rim_sensitivity.toml"), _shipped("experiments/studies/ishigami.toml")]


@settings(max_examples=EXAMPLES["study"], **FUZZ)
@given(document=st.one_of(random_studies, *(mutations_of(base) for base in STUDY_BASES)))
def test_study_files(tmp_path_factory, document):
    directory = tmp_path_factory.mktemp("study")
    path = directory / "study.toml"
    path.write_text(tomli_w.dumps(document))
    _loads_or_refuses(load_study, path, names=(str(path),), directory=directory)


arms = st.fixed_dictionaries({}, optional={
    "name": st.one_of(st.text(max_size=70), st.sampled_from(["placebo", "../../x", "/abs", "A", "a", "ok arm"])),
    "drug": st.sampled_from(["tolebrutinib", "evobrutinib", "fenebrutinib", "none", "aspirin"]),
    "dose_mg": st.one_of(st.floats(allow_nan=True), st.sampled_from([20.0, 60.0])),
    "interval_h": st.one_of(st.floats(min_value=-1, max_value=100), st.just(24.0)),
    "start": st.floats(min_value=-1, max_value=10), "stop": st.floats(min_value=-1, max_value=200),
    "adherence": st.floats(min_value=-1, max_value=2), "colour": scalars})
spreads = st.fixed_dictionaries({}, optional={
    "kind": st.sampled_from(["uniform", "lognormal", "normal"]), "low": st.floats(min_value=-5, max_value=5),
    "high": st.floats(min_value=-5, max_value=5), "median": st.floats(min_value=-1, max_value=5),
    "sigma": st.floats(min_value=-1, max_value=6)})
trial_settings = st.fixed_dictionaries({}, optional={
    "lesions": st.one_of(st.integers(min_value=-2, max_value=6), st.just(10**6)),
    "seed": st.integers(min_value=-1, max_value=10), "years": st.floats(min_value=-1, max_value=200),
    "bootstrap": st.integers(min_value=0, max_value=300), "arms": st.one_of(st.lists(arms, max_size=3), scalars),
    "cohort": st.one_of(st.dictionaries(st.sampled_from(["lesion.radius", "microglia.activation_rate", "radius",
                                                         "time.scheme", "a.b.c"]), spreads, max_size=2), scalars),
    "progression_threshold": st.floats(min_value=-1, max_value=200)})


random_trials = st.builds(lambda trial, model, extra: {"trial": trial, "model": model}
                          | ({"arm": {"name": "x"}} if extra else {}),
                          trial_settings, st.one_of(_config_documents(), scalars), st.booleans())
TRIAL_BASE = _shipped("experiments/trial_tolebrutinib_like.toml")


@settings(max_examples=EXAMPLES["trial"], **FUZZ)
@given(document=st.one_of(random_trials, mutations_of(TRIAL_BASE)))
def test_trial_files(tmp_path_factory, document):
    directory = tmp_path_factory.mktemp("trial")
    path = directory / "trial.toml"
    path.write_text(tomli_w.dumps(document))
    _loads_or_refuses(load_trial, path, names=(str(path),), directory=directory)


@pytest.mark.parametrize("preset", sorted(SOLVER_PRESETS))
def test_a_loaded_config_reads_back_unchanged(tmp_path, preset):
    """What the fuzzers accept is what runs: the stored config.toml of an accepted config loads again."""
    from rimmodel.config import config_to_toml

    config = load_config(None, [f"solver.preset={preset}", "time.end=2.5"])
    path = tmp_path / "config.toml"
    path.write_text(config_to_toml(config))
    assert load_config(path) == config and math.isclose(load_config(path).time.end, 2.5)


def _record_document() -> dict:
    import numpy as np

    from rimmodel.io.record_json import record_to_json
    from rimmodel.io.results import RunRecord

    record = RunRecord(dimension=2, units={"lesion_size": "mm^2"}, provenance={"mpi_size": 1},
                       config_toml="", depth_bin_edges=np.linspace(0.0, 1.0, 3))
    for k in range(2):
        record.add_output(0.5 * k, {"lesion_size": 1.0 + k}, {"myelin_loss": np.array([0.1, 0.2])}, (0.0, 0.0))
    record.steps.append({"time": 0.5, "dt": 0.5, "accepted": True, "reason": "ok", "newton_iterations": 3,
                         "linear_iterations": 3, "wall_time": 0.01})
    return json.loads(record_to_json(record))


@settings(max_examples=EXAMPLES["record"], **FUZZ)
@given(document=mutations_of(_record_document(), max_changes=4))
def test_checkpoint_records(document):
    """A checkpoint record from a shared run directory: loaded, or a ValueError naming the field."""
    from rimmodel.io.record_json import record_from_json

    try:
        record_from_json(json.dumps(document))
        event("loaded")
    except ValueError as error:
        event("refused")
        assert str(error).startswith("field '") and "\n" not in str(error), str(error)
