"""[solver.petsc_options]: what solving needs passes; viewers, files, python and the rest need an opt-in."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rimmodel.config import ConfigError, load_config
from rimmodel.config.solver_presets import SOLVER_PRESETS

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OPT_IN = "solver.unsafe_petsc_options=true"


@pytest.mark.parametrize("preset", sorted(SOLVER_PRESETS))
def test_every_preset_option_is_allowed(preset):
    assert load_config(None, [f"solver.preset={preset}"]).solver.petsc_options == SOLVER_PRESETS[preset]


@pytest.mark.parametrize("option", [
    "ksp_rtol=1e-8", "ksp_gmres_restart=60", "snes_linesearch_type=bt", "pc_type=hypre",
    "pc_fieldsplit_block_size=5", 'pc_fieldsplit_3_fields="3,4"', "fieldsplit_3_pc_type=gamg",
    "fieldsplit_0_sub_pc_factor_levels=1", "fieldsplit_mediator_ksp_type=preonly", "mg_levels_ksp_type=chebyshev",
    "mg_levels_2_pc_type=sor", "pc_gamg_threshold=0.02", "mat_mumps_icntl_14=80", 'ksp_monitor=""',
    'fieldsplit_1_ksp_converged_reason=""', "snes_max_it=50", "ksp_initial_guess_nonzero=true",
])
def test_solver_settings_pass(option):
    name = option.split("=", 1)[0]
    assert name in load_config(None, ["solver.preset=iterative_3d", f"solver.petsc_options.{option}"]) \
        .solver.petsc_options


@pytest.mark.parametrize("option, rule", [
    ('snes_view="ascii:/tmp/anywhere"', "viewer options write files"),
    ('ksp_view="binary"', "viewer options write files"),  # PETSc writes ./binaryoutput
    ('fieldsplit_0_ksp_view=""', "viewer options write files"),
    ('mat_view="draw"', "viewer options write files"),
    ('pc_type="python"', "python types"),
    ('fieldsplit_1_pc_type="Python"', "python types"),
    ('pc_python_type="evil.Preconditioner"', "python types"),
    ('options_file="other.opts"', "reads other options"),
    ('log_view=""', "viewer options write files"),
    ('history="h.log"', "writes files"),
    ('on_error_attach_debugger="gdb"', "debugger"),
    ('pc_mg_dump_binary=true', "writes files"),
    ('ksp_monitor="ascii:/tmp/x.log"', "a file or viewer"),
    ('snes_monitor="binary"', "standard output only"),
    ("ksp_converged_reason=false", "standard output only"),
    ('pc_factor_mat_solver_type="../lib"', "a file or viewer"),
    ("mat_mumps_icntl_22=1", "out-of-core"),
    ("malloc_debug=true", "writes files"),
    ("vec_type=cuda", "not a solver setting"),
    ('-ksp_type=gmres', "without the leading '-'"),
])
def test_anything_else_is_refused_in_one_line_naming_the_key_and_rule(option, rule):
    name = option.split("=", 1)[0].strip('"')
    with pytest.raises(ConfigError) as refused:
        load_config(None, [f"solver.petsc_options.{option}"])
    message = str(refused.value)
    assert message.startswith(f"solver.petsc_options.{name} = ") and rule in message and "\n" not in message
    assert OPT_IN.replace("=", " = ") in message
    assert name in load_config(None, [f"solver.petsc_options.{option}", OPT_IN]).solver.petsc_options


def test_a_config_file_is_checked_like_set(tmp_path):
    config = tmp_path / "shared.toml"
    config.write_text('[solver.petsc_options]\nsnes_view = "ascii:/tmp/x"\n')
    with pytest.raises(ConfigError, match=r"solver.petsc_options.snes_view = 'ascii:/tmp/x': viewer"):
        load_config(config)


@pytest.mark.serial
def test_the_command_line_writes_nothing_and_resume_refuses_the_opt_in(tmp_path):
    target, out = tmp_path / "written-by-petsc.txt", tmp_path / "run"
    refused = subprocess.run([str(BIN / "rimmodel"), "run", str(REPO / "experiments/reference_untreated.toml"),
                              "--set", f'solver.petsc_options.snes_view="ascii:{target}"', "--out", str(out)],
                             check=False, capture_output=True, text=True, env=os.environ | {"OMP_NUM_THREADS": "1"})
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    assert "solver.petsc_options.snes_view" in refused.stderr
    assert not target.exists() and not out.exists()
    out.mkdir()
    (out / "config.toml").write_text('[solver]\nunsafe_petsc_options = true\n')
    resumed = subprocess.run([str(BIN / "rimmodel"), "run", "--resume", str(out)], check=False, capture_output=True,
                             text=True)
    assert resumed.returncode == 2 and "unsafe_petsc_options" in resumed.stderr
    assert sorted(p.name for p in out.iterdir()) == ["config.toml"]
