"""The command line as a user meets it: version, help, progress in a Slurm log, log levels,
reports that do not overwrite tracked docs, configs with units, --set everywhere, missing extras."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import rimmodel
from rimmodel.cli import _parser, main
from rimmodel.config import ConfigError, config_to_toml, load_config
from rimmodel.config.annotated import annotated_toml, table_specs
from rimmodel.study.spec import load_study
from rimmodel.trial.config import load_trial

REPO = Path(__file__).resolve().parents[1]
SMALL_RUN = ["--set", "geometry.mesh_size=0.4", "--set", "time.end=1", "--set", "time.output_interval=0.5"]


def test_version_and_a_help_without_restructuredtext(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"rimmodel {rimmodel.__version__}"
    text = _parser().format_help()
    assert "``" not in text and ":func:" not in text
    for command in ("run", "export", "schema", "completion", "verify", "render"):
        assert re.search(rf"^\s+{command}\s", text, re.MULTILINE), command


@pytest.mark.serial  # starts rimmodel in a subprocess, its output piped as under Slurm
def test_a_piped_run_logs_plain_progress_and_a_summary_and_q_silences_them(tmp_path):
    command = [sys.executable, "-m", "rimmodel", "run", str(REPO / "experiments/reference_untreated.toml"),
               *SMALL_RUN, "--out", str(tmp_path / "run")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=_env())
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    progress = [line for line in lines if re.match(r"rimmodel: t = [\d.]+ / 1.00 yr", line)]
    assert len(progress) == 10 and "\r" not in done.stdout and "\r" not in done.stderr  # no bar
    summary = lines[-1]
    assert summary.startswith("rimmodel: run completed: 1 yr simulated in")
    assert re.search(r"expansion rate -?\d\.\d{3} mm/yr \(mean\)", summary)
    assert summary.endswith(f"results in {tmp_path / 'run'}")
    quiet = subprocess.run([sys.executable, "-m", "rimmodel", "-q", *command[3:], "--overwrite"],
                           capture_output=True, text=True, timeout=300, env=_env())
    assert quiet.returncode == 0 and quiet.stdout == "", quiet.stdout


def _env() -> dict:
    return os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "visualization")]),
                         "OMP_NUM_THREADS": "1"}


def test_reports_default_under_runs_and_say_what_they_are_doing(shared_dir, comm, monkeypatch, capsys):
    assert _parser().parse_args(["verify"]).out == Path("runs/verification/verification.md")
    assert _parser().parse_args(["validate"]).out == Path("runs/validation/validation.md")
    from rimmodel.verification import report

    # the seven cases stand in for themselves here (the real ones take minutes; rimmodel verify --quick in CI)
    for name in ("manufactured_section", "time_order_section", "fisher_kpp_section", "pial_section",
                 "instability_section", "balo_section"):
        monkeypatch.setattr(report, name, lambda *args, name=name: [f"{name} ran"])
    monkeypatch.setattr(report, "conservation_section", lambda comm: ["conservation ran"])
    out = shared_dir / "verification.md"
    assert main(["verify", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    comm.barrier()  # rank 0 has written the report
    assert "pial_section ran" in out.read_text()
    if comm.rank > 0:  # one voice in an MPI job's log
        assert printed == ""
        return
    for stage in ("[1/7] manufactured solutions ...", "[6/7] chemotactic instability and rings done in",
                  "[7/7] Baló-type bands (debris-driven attractant) done in"):
        assert stage in printed


def test_config_output_keeps_every_unit_and_range_and_loads_back():
    config = load_config(REPO / "experiments/reference_untreated.toml")
    text = annotated_toml(config)
    assert tomllib.loads(text) == tomllib.loads(config_to_toml(config))
    assert "width = 8.0  # mm; [1, 200]; Width of the section" in text
    assert re.search(r"^end = [\d.]+  # yr; \[1e-06, 1000\]; Simulated duration$", text, re.MULTILINE)
    commented = {line.split(" = ")[0] for line in text.splitlines() if " = " in line and "  # " in line}
    declared = {key for table in table_specs().values() for key in table}
    # every declared key that appears as `key = ...` carries its comment
    bare = {line.split(" = ")[0] for line in text.splitlines() if " = " in line and "  # " not in line}
    assert not (bare & declared - commented), bare & declared


def test_trial_and_study_take_set(tmp_path):
    study = load_study(REPO / "experiments/studies/rim_sensitivity.toml", ["time.end=0.5", "study.seed=7"])
    assert study.model_config["time"]["end"] == 0.5 and study.parameters.seed == 7
    assert study.source.endswith("# --set time.end=0.5\n# --set study.seed=7")
    trial = load_trial(REPO / "experiments/trial_tolebrutinib_like.toml", ["trial.lesions=2", "time.dt=0.05"])
    assert trial.lesions == 2 and trial.model["time"]["dt"] == 0.05
    with pytest.raises(ConfigError, match="trial.years"):
        load_trial(REPO / "experiments/trial_tolebrutinib_like.toml", ["time.end=2"])
    with pytest.raises(ConfigError, match=r"study.samples = 3: saltelli needs a power of 2"):
        load_study(REPO / "experiments/studies/rim_sensitivity.toml", ["study.samples=3"])
    for command in ("trial", "study"):
        args = _parser().parse_args([command, "x.toml", "--set", "time.dt=0.05", "--set", f"{command}.seed=1"])
        assert args.overrides == ["time.dt=0.05", f"{command}.seed=1"]


BLOCK_FEM = ("import sys\n"
             "for name in ('dolfinx', 'mpi4py', 'petsc4py', 'ufl', 'basix'):\n"
             "    sys.modules[name] = None\n"
             "from rimmodel.cli import main\n"
             "sys.exit(main(sys.argv[1:]))\n")


@pytest.mark.serial  # a subprocess without the FEM stack: what `pip install .[viz]` gives
def test_run_without_the_fem_stack_names_the_extra_to_install(tmp_path):
    done = subprocess.run([sys.executable, "-c", BLOCK_FEM, "run", str(REPO / "experiments/reference_untreated.toml"),
                           "--out", str(tmp_path / "run")], capture_output=True, text=True, timeout=120, env=_env())
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and 'pip install -e ".[fem]"' in done.stderr, done.stderr
    assert not (tmp_path / "run").exists()


def test_plain_progress_of_a_resumed_run_counts_from_where_it_resumed(caplog):
    from rimmodel.progress import PlainProgress

    ticks = iter(range(100))
    progress = PlainProgress(10.0, start_yr=6.0, clock=lambda: float(next(ticks)))
    with caplog.at_level("INFO", logger="rimmodel.progress"):
        for _ in range(8):
            progress.update(0.5)
    lines = [record.getMessage() for record in caplog.records if record.levelname == "INFO"]
    assert lines[0].startswith("rimmodel: t = 7.00 / 10.00 yr ( 70%)")
    assert lines[-1].startswith("rimmodel: t = 10.00 / 10.00 yr (100%)") and len(lines) == 4
    assert lines[0].endswith("0:02 elapsed, ~0:06 left")  # 1 yr in 2 s: 3 yr to go take 6 s
