"""Named solver presets: validated by name, merged with user options, and the iterative 3D preset
gives the direct solver's answer (runs serially and under mpirun -n 2)."""

import dataclasses

import numpy as np
import pytest

from rimmodel.config import ConfigError, config_from_dict, config_to_dict, load_config
from rimmodel.config.solver_presets import SOLVER_PRESETS, solver_options
from rimmodel.physics.equations import AXONS, FIELDS

# a small 3D slab (6912 tetrahedra, 8075 DOFs) with one follicle on its pia (y = 4.5 mm)
SMALL_SLAB = ("geometry.kind=cortical_slab", "geometry.mesh_size=0.25", "geometry.width=4.0",
              "geometry.white_matter_depth=2.0", "geometry.length=1.0", "lesion.centre_x=2.0",
              "lesion.depth_below_pia=3.0", "lesion.radius=0.5", "follicles.patches=[{centre = [1.0, 4.5]}]",
              "time.end=0.2", "time.dt=0.1", "time.output_interval=0.2", "output.fields=false",
              "output.checkpoints=false", "output.progress=false")
# Newton stops at a 1e-10 relative residual with either linear solver (the iterative one's
# ksp_rtol = 1e-6 changes only the iteration path): the states agree to round-off (measured
# 5e-15 serially, 1e-14 on 2 ranks), asserted to the 1e-8 that 1, 2 and 3 ranks are held to
AGREEMENT = 1e-8


def test_unknown_preset_names_the_field_and_the_allowed_values(tmp_path):
    with pytest.raises(ConfigError, match=r"solver.preset = 'gamg' is not allowed: one of 'direct', 'iterative_3d'"):
        load_config(None, ["solver.preset=gamg"])
    config = tmp_path / "bad.toml"
    config.write_text("[solver]\npreset = 3\n")
    with pytest.raises(ConfigError, match=r"solver.preset = 3 is not allowed"):
        load_config(config)


def test_user_options_add_to_or_replace_the_preset():
    config = load_config(None, ["solver.preset=iterative_3d", "solver.petsc_options.ksp_rtol=1e-8",
                                "solver.petsc_options.ksp_gmres_restart=60"])
    options = config.solver.petsc_options
    assert options == SOLVER_PRESETS["iterative_3d"] | {"ksp_rtol": 1e-8, "ksp_gmres_restart": 60}
    assert "pc_factor_mat_solver_type" not in options  # nothing of the direct preset is left over
    assert config_from_dict(config_to_dict(config)) == config  # a stored config.toml reads back unchanged
    assert load_config(None).solver.petsc_options == SOLVER_PRESETS["direct"]


def test_fieldsplit_is_derived_from_the_declared_fields():
    options = solver_options(SOLVER_PRESETS["iterative_3d"], FIELDS.split_blocks(), len(FIELDS))
    assert options["pc_fieldsplit_block_size"] == len(FIELDS)
    blocks = [[FIELDS.names[int(i)] for i in options[f"pc_fieldsplit_{n}_fields"].split(",")] for n in range(3)]
    assert blocks == [["microglia", "myelin", "axons", "tissue", "iron"], ["mediator"], ["follicle_factor"]]
    assert options["fieldsplit_0_pc_type"] == "asm" and options["fieldsplit_1_pc_type"] == "gamg"
    # one more field is split with the others of its kind: nothing to edit in the preset
    more = FIELDS.with_field(dataclasses.replace(AXONS, name="astrocytes", symbol="A"))
    options = solver_options(SOLVER_PRESETS["iterative_3d"], more.split_blocks(), len(more))
    last = str(len(more) - 1)
    assert options["pc_fieldsplit_block_size"] == len(more) and options["pc_fieldsplit_0_fields"].endswith(last)


def test_a_user_split_that_does_not_match_the_fields_is_refused():
    stale = SOLVER_PRESETS["iterative_3d"] | {"pc_fieldsplit_block_size": len(FIELDS)}
    more = FIELDS.with_field(dataclasses.replace(AXONS, name="astrocytes", symbol="A"))
    with pytest.raises(ValueError, match=f"pc_fieldsplit_block_size = {len(FIELDS)} does not match the model's"):
        solver_options(stale, more.split_blocks(), len(more))
    assert solver_options(SOLVER_PRESETS["direct"], more.split_blocks(), len(more)) == SOLVER_PRESETS["direct"]


def _final_state(preset: str, out_dir) -> tuple[np.ndarray, object]:
    from rimmodel.simulation import Simulation

    simulation = Simulation(load_config(None, (*SMALL_SLAB, f"solver.preset={preset}")))
    record = simulation.run(out_dir, overwrite=True)
    assert record.status == "completed" and all(step["accepted"] for step in record.steps)
    return simulation.state.x.array.copy(), simulation


def test_iterative_3d_preset_matches_lu_on_a_3d_slab(shared_dir, comm):
    direct, _ = _final_state("direct", shared_dir / "direct")
    iterative, simulation = _final_state("iterative_3d", shared_dir / "iterative")
    matrix = simulation.stepper.problem.solver.getJacobian()[0]
    assert matrix.getBlockSize() == len(FIELDS)  # what pc_fieldsplit_block_size relies on
    pc = simulation.stepper.problem.solver.getKSP().getPC()
    assert pc.getType() == "fieldsplit"
    # the preconditioner really split the fields as declared: block sizes are nodes x fields per block
    nodes = simulation.disc.scalar_space.dofmap.index_map.size_local
    sizes = [sub.getOperators()[0].getLocalSize()[0] for sub in pc.getFieldSplitSubKSP()]
    assert sizes == [nodes * len(indices) for _, indices in FIELDS.split_blocks()]
    difference = comm.allreduce(float(np.max(np.abs(iterative - direct))), op=max_op())
    scale = comm.allreduce(float(np.max(np.abs(direct))), op=max_op())
    assert difference <= AGREEMENT * scale, (difference, scale)


def max_op():
    from rimmodel.fem import MPI

    return MPI.MAX
