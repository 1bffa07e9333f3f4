"""A study under posterior draws: ``rimmodel study STUDY.toml --draws FILE [--draws-count N]``.

The draws cross the study's design. N draws are chosen from FILE (a ``rimmodel calibrate``
``*_draws.csv``: a header of dotted model parameters, one draw per row) as ``rimmodel trial
--draws`` chooses them: without replacement, seeded by ``study.seed``, kept in file order;
``cohort.*`` columns describe the calibration's lesion cohort and are dropped. The whole study
then runs once per draw, in OUT/draw-000, OUT/draw-001, ...: the draw's values replace the base
model values of the parameters it names, the swept parameters are sampled by the study's own
design (the same design in every draw directory). Each draw directory is a complete study (its
own journals, resume, results file; ``rimmodel analyze OUT/draw-000``), so every quantity a study
yields (an observable, a Sobol index) gets one value per draw: its spread over the draw
directories is the parametric uncertainty. OUT/draws.csv says which draw each directory ran.

A draws file naming a parameter the study sweeps or fixes is refused (which value would win is
a question, not a default), as is one naming an unknown model parameter.
"""

from __future__ import annotations

import copy
import csv
import math
from pathlib import Path

import numpy as np

from rimmodel.config import ConfigError
from rimmodel.config.loading import set_dotted
from rimmodel.study.spec import Study, model_config_for

DRAWS_TABLE = "draws.csv"
CALIBRATION_ONLY = "cohort."


def read_draws(path: str | Path) -> list[dict[str, float]]:
    """A draws file as one {parameter: value} per draw."""
    try:
        with Path(path).open(newline="") as handle:
            rows = [row for row in csv.reader(handle) if row]
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"--draws {path}: not a readable CSV file: {error}") from None
    if len(rows) < 2:
        raise ConfigError(f"--draws {path}: no posterior draws (need a header of parameters and >= 1 row)")
    header, draws = rows[0], []
    for number, row in enumerate(rows[1:], start=2):
        try:
            values = [float(v) for v in row]
        except ValueError:
            raise ConfigError(f"--draws {path}, line {number}: expected numbers, got {row}") from None
        if len(values) != len(header) or not all(map(math.isfinite, values)):
            raise ConfigError(f"--draws {path}, line {number}: expected {len(header)} finite numbers, got {row}")
        draws.append(dict(zip(header, values)))
    return draws


def choose_draws(path: str | Path, count: int, seed: int) -> list[dict[str, float]]:
    if count < 1:
        raise ConfigError(f"--draws-count {count}: need at least 1")
    draws = read_draws(path)
    chosen = np.sort(np.random.default_rng(seed).choice(len(draws), size=min(count, len(draws)), replace=False))
    return [{k: v for k, v in draws[i].items() if not k.startswith(CALIBRATION_ONLY)} for i in chosen]


def check_draws(study: Study, draws: list[dict[str, float]], path: str | Path) -> None:
    """Refuse draws that collide with what the study sets itself, or that make no valid model config."""
    if study.parameters.model != "rimmodel":
        raise ConfigError(f"--draws {path}: study.model = {study.parameters.model!r} has no model parameters "
                          "to draw; --draws needs study.model = 'rimmodel'")
    names = set(draws[0])
    for what, taken in (("sweeps", study.distributions), ("fixes", study.fixed)):
        collide = sorted(names & set(taken))
        if collide:
            raise ConfigError(f"--draws {path}: the study {what} {', '.join(collide)}, which the draws also set; "
                              "drop the parameter from the study or the column from the draws file")
    for k, draw in enumerate(draws):
        study_under_draw(study, draw, k, path)


def study_under_draw(study: Study, draw: dict[str, float], index: int, path: str | Path) -> Study:
    """The study with one draw's values in its base model config (validated), and a source that
    records the draw, so that a draw directory refuses to continue under another draw."""
    varied = copy.copy(study)
    varied.model_config = copy.deepcopy(study.model_config)
    for name, value in draw.items():
        set_dotted(varied.model_config, name, value)
    model_config_for(varied, {}, context=f"--draws {path}, draw {index}")
    values = ", ".join(f"{k} = {v!r}" for k, v in draw.items())
    varied.source = f"{study.source}\n# posterior draw {index} of {Path(path).name}: {values}\n"
    return varied


def draw_directory(out: Path, index: int) -> Path:
    return Path(out) / f"draw-{index:03d}"


def run_study_over_draws(study: Study, draws_file: Path, count: int, out: Path, comm, progress: bool = True,
                         part: tuple[int, int] = (0, 1), collect: bool = True) -> list[Path]:
    """Run (or continue) the study once per chosen draw; returns the results files. Collective."""
    from rimmodel.study.runner import run_study

    draws = choose_draws(draws_file, count, study.parameters.seed)
    check_draws(study, draws, draws_file)  # everything validated before the first run
    found = []
    for k, draw in enumerate(draws):
        found.append(run_study(study_under_draw(study, draw, k, draws_file), draw_directory(out, k), comm,
                               progress=progress, part=part, collect=collect))
    if comm.rank == 0:
        write_draws_table(Path(out), draws, draws_file)
    comm.Barrier()
    return found


def collect_over_draws(study: Study, draws_file: Path, count: int, out: Path) -> list[Path]:
    """Results files from what has finished in every draw directory (runs nothing; serial)."""
    from rimmodel.study.runner import collect_study

    draws = choose_draws(draws_file, count, study.parameters.seed)
    check_draws(study, draws, draws_file)
    found = [collect_study(study_under_draw(study, draw, k, draws_file), draw_directory(out, k))
             for k, draw in enumerate(draws)]
    write_draws_table(Path(out), draws, draws_file)
    return found


def write_draws_table(out: Path, draws: list[dict[str, float]], draws_file: Path) -> Path:
    path = out / DRAWS_TABLE
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["directory", *draws[0], "draws_file"])
        for k, draw in enumerate(draws):
            writer.writerow([draw_directory(Path("."), k).name, *(repr(v) for v in draw.values()), str(draws_file)])
    return path
