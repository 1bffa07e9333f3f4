"""Every command the README and docs print is one that works as printed: it parses, and its
config, overrides and mesh settings validate (what makes a run stop before it starts). The
install lines name extras that exist, and nothing tells users to install from an index that
does not serve rimmodel."""

import re
import shlex
import tomllib
from pathlib import Path

import pytest

from rimmodel.cli import _parser
from rimmodel.config import load_config
from rimmodel.geometry.mesh_cli import mesh_parameters
from rimmodel.study.spec import load_study
from rimmodel.patients.design import is_design_file, load_design
from rimmodel.trial.config import load_trial

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LAUNCHER = re.compile(r"^(\.venv/bin/)?(mpirun -n \d+ )?(\.venv/bin/)?rimmodel ")
EXTRAS = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]


def documented_commands() -> list[tuple[str, str]]:
    found = []
    for document in DOCUMENTS:
        in_shell_block = False
        # a shell block may continue a command onto the next line with a trailing backslash
        text_lines = document.read_text().replace("\\\n", " ").splitlines()
        for line in text_lines:
            if line.startswith("```"):
                in_shell_block = line.strip() == "```bash"
                continue
            text = re.sub(r"^\.venv/bin/mpirun -n \d+ ", "", line.strip())
            if in_shell_block and LAUNCHER.match(text):
                words = shlex.split(text, comments=True)
                found.append((f"{document.name}: {line.strip()}", words[words.index(
                    next(w for w in words if w.endswith("rimmodel"))) + 1:]))
    return found


COMMANDS = documented_commands()


def test_the_documents_print_commands():
    assert len(COMMANDS) > 25
    assert any(words[0] == "mesh" for _, words in COMMANDS)


@pytest.mark.parametrize("line,words", COMMANDS, ids=[line[:90] for line, _ in COMMANDS])
def test_a_documented_command_parses_and_its_inputs_validate(line, words):
    try:
        args = _parser().parse_args(words)
    except SystemExit:
        pytest.fail(f"does not parse: {line}")
    if args.command == "mesh":  # the README's whole-brain command once failed here: 9.4e7 cells > 2e7
        mesh_parameters(args.kind, args.size, args.overrides)
    elif args.command in ("run", "config") and args.config is not None:
        load_config(REPO / args.config, args.overrides)
    elif args.command == "trial" and is_design_file(REPO / args.config):
        assert not args.overrides, f"--set does not apply to a trial design: {line}"
        load_design(REPO / args.config)
    elif args.command == "trial":
        load_trial(REPO / args.config, args.overrides)
    elif args.command == "study":
        load_study(REPO / args.study, args.overrides)


def test_install_lines_name_existing_extras_and_the_full_set_make_installs():
    text = "\n".join(document.read_text() for document in DOCUMENTS)
    named = re.findall(r'pip install (?:-e )?"\.\[([\w,]+)\]"', text)
    assert named
    for extras in named:
        assert set(extras.split(",")) <= set(EXTRAS), extras
    bootstrap = (REPO / "scripts" / "bootstrap.sh").read_text()
    assert 'pip install -e ".[all]"' in bootstrap
    assert '`pip install -e ".[all]"`, what `make` installs' in (REPO / "README.md").read_text()
    assert set(EXTRAS["all"][0].split("[")[1].rstrip("]").split(",")) == set(EXTRAS) - {"all", "bench"}
    # rimmodel is not on any package index: no bare `pip install rimmodel` / `"rimmodel[...]"`
    assert not re.search(r'pip install "?rimmodel(\[[\w,]+\])?"?(?! @)(\s|$)', text)
