"""What users of a scientific Python package expect: a wheel and sdist that build and pass
``twine check``, a licence, an API reference that builds, a config schema for editors, shell
completion, and a container definition for clusters."""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import jsonschema
import pytest

import rimmodel
from rimmodel.cli import _parser
from rimmodel.completion import bash_script
from rimmodel.config import ConfigError, load_config
from rimmodel.config.schema import config_schema

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MODEL_CONFIGS = sorted(p for p in (REPO / "experiments").glob("*.toml") if not p.name.startswith("trial_"))


def _env() -> dict:
    return os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "visualization")]),
                         "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "OMP_NUM_THREADS": "1",
                         "PYVISTA_OFF_SCREEN": "true"}


def _source_tree(target: Path) -> Path:
    """The files a clone has (tracked, or new and not ignored): no .venv, runs or caches."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.mark.serial  # builds in subprocesses
def test_sdist_and_wheel_build_and_pass_twine_check(tmp_path):
    source, dist = _source_tree(tmp_path / "source"), tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    assert wheel.name == f"rimmodel-{rimmodel.__version__}-py3-none-any.whl"
    checked = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)],
                             capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0 and checked.stdout.count("PASSED") == 2, checked.stdout + checked.stderr
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"rimmodel-{rimmodel.__version__}.dist-info"
        metadata = archive.read(f"{info}/METADATA").decode()
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    assert "License-Expression: MIT" in metadata and f"{info}/licenses/LICENSE" in names
    assert "rimmodel = rimmodel.cli:main" in entry_points
    modules = {str(p.relative_to(REPO)) for p in (REPO / "rimmodel").rglob("*.py")}
    modules |= {str(p.relative_to(REPO / "visualization")) for p in (REPO / "visualization/rimviz").rglob("*.py")}
    assert modules <= names, sorted(modules - names)
    with tarfile.open(sdist) as archive:
        top = f"rimmodel-{rimmodel.__version__}"
        assert {f"{top}/LICENSE", f"{top}/pyproject.toml", f"{top}/README.md"} <= set(archive.getnames())


@pytest.mark.serial  # a Sphinx build in a subprocess
def test_api_reference_builds_from_the_docstrings_without_warnings(tmp_path):
    built = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                            str(REPO / "docs/api"), str(tmp_path / "html")],
                           capture_output=True, text=True, timeout=300, env=_env())
    assert built.returncode == 0, built.stderr
    page = (tmp_path / "html" / "running.html").read_text()
    assert "load_config" in page and "Simulation" in page
    assert "read_run" in (tmp_path / "html" / "results.html").read_text()


def test_config_schema_accepts_every_shipped_config_and_rejects_what_the_loader_rejects():
    schema = config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert len(MODEL_CONFIGS) >= 8
    for path in MODEL_CONFIGS:
        errors = [error.message for error in validator.iter_errors(tomllib.loads(path.read_text()))]
        assert not errors, (path.name, errors)
    assert schema["properties"]["geometry"]["properties"]["width"]["description"].endswith(
        "[mm]. Allowed: [1, 200].")
    for override in ("time.end=-1", "geometry.kind=\"cube\"", "time.endd=2", "output.fields=1",
                     "discretisation.degree=1.5"):
        section, assignment = override.split(".", 1)
        key, value = assignment.split("=", 1)
        raw = {section: tomllib.loads(f"{key} = {value}")}
        assert not validator.is_valid(raw), override
        with pytest.raises(ConfigError):
            load_config(None, [override])


@pytest.mark.serial  # runs bash
def test_bash_completion_completes_commands_options_and_choices(tmp_path):
    script = tmp_path / "rimmodel.bash"
    script.write_text(bash_script(_parser()))
    probes = {"rimmodel ex": "export", "rimmodel export RUN --format v": "vtkhdf vtu",
              "rimmodel run --o": "--out --overwrite", "rimmodel -q ren": "render",
              "rimmodel completion b": "bash", "rimmodel analyze DIR --statistic r": "rate"}
    lines = [f"source {shlex.quote(str(script))}"]
    for words in probes:
        lines += [f"COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMPREPLY=()",
                  "_rimmodel_complete; echo \"${COMPREPLY[*]}\""]
    done = subprocess.run(["bash", "-c", "\n".join(lines)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == list(probes.values())


DEFINITION = REPO / "hpc" / "rimmodel.def"
SECTIONS = {"%labels", "%help", "%files", "%environment", "%post", "%runscript", "%test"}


def _definition() -> tuple[dict, dict]:
    header, sections, current = {}, {}, None
    for line in DEFINITION.read_text().splitlines():
        if line.startswith("#") or (current is None and not line.strip()):
            continue
        if line.startswith("%"):
            current = line.split()[0]
            assert current in SECTIONS, f"unknown section {current}"
            assert current not in sections, f"{current} twice"
            sections[current] = []
        elif current is None:
            key, value = line.split(":", 1)
            header[key.strip()] = value.strip()
        else:
            sections[current].append(line)
    return header, {name: "\n".join(lines) for name, lines in sections.items()}


@pytest.mark.serial  # the container's smoke test runs here, mpirun -n 2 included
def test_apptainer_definition_is_well_formed_and_its_smoke_test_passes_here(tmp_path):
    header, sections = _definition()
    assert header["Bootstrap"] == "docker" and re.fullmatch(r"python:3\.1[2-9][\w.-]*", header["From"])
    assert set(sections) == SECTIONS
    for source, target in (line.split() for line in sections["%files"].splitlines() if line.strip()):
        assert (REPO / source).exists() and target.startswith("/opt/rimmodel/"), source
    for name in ("%environment", "%post", "%runscript", "%test"):
        syntax = subprocess.run(["bash", "-n"], input=sections[name], capture_output=True, text=True)
        assert syntax.returncode == 0, (name, syntax.stderr)
    extras = re.search(r'"/opt/rimmodel\[([\w,]+)\]"', sections["%post"]).group(1).split(",")
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(extras) <= set(declared) and "fem" in extras
    # %test as the container would run it, with this checkout as $RIMMODEL_HOME and the venv's rimmodel/mpirun
    environment = "\n".join(line.strip() for line in sections["%environment"].splitlines())
    environment = environment.replace("export RIMMODEL_HOME=/opt/rimmodel", f"export RIMMODEL_HOME={REPO}")
    done = subprocess.run(["bash", "-c", f"{environment}\n{sections['%test']}"], capture_output=True, text=True,
                          timeout=600, env=_env() | {"TMPDIR": str(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == f"rimmodel {rimmodel.__version__}"
    assert done.stdout.rstrip().endswith("smoke test passed")
    assert "bad X server" not in done.stderr
