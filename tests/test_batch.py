"""Batched radial lesions: decoupled parts, per-part parameters, and agreement with one-at-a-time runs."""

import numpy as np
import pytest

from rimmodel.batch.runner import RadialBatch
from rimmodel.config import ConfigError, load_config

BASE = ['geometry.kind="spherical_lesion"', "geometry.outer_radius=5.0", "geometry.mesh_size=0.1",
        "time.end=2.0", "output.fields=false", "output.progress=false", "output.checkpoints=false"]
SAMPLES = ([], ["microglia.activation_rate=2.6", "microglia.chemotactic_sensitivity=0.05"],
           ["lesion.radius=1.4", "lesion.core_microglia=0.4"],
           ["btk.schedule=[{start=1.0, cns=0.8, peripheral=0.8}]", "btk.microglial_efficacy=0.5"])


@pytest.fixture(scope="module")
def configs():
    return [load_config(None, BASE + list(sample)) for sample in SAMPLES]


@pytest.fixture(scope="module")
def batched(configs, comm):
    return RadialBatch(configs, comm).run()


def test_batch_matches_one_at_a_time_runs(configs, batched, comm, shared_dir):
    from rimmodel.simulation import Simulation

    for k, config in enumerate(configs):
        record = Simulation(config, comm).run(shared_dir / f"sample-{k}")
        assert np.allclose(record.time, batched.times, rtol=0, atol=1e-12)
        for name, values in batched.series.items():
            single = np.array(record.series[name])
            # equal up to where Newton stops (snes_rtol 1e-10 on the batch's residual, not each sample's)
            assert values[k] == pytest.approx(single, rel=1e-6, abs=1e-9), f"sample {k}: {name}"
    radius = batched.series["lesion_equivalent_radius"]
    assert len({round(r, 6) for r in radius[:, -1]}) == len(configs)  # the samples really differ


def test_parts_are_independent(configs, batched, comm):
    """A batch in another order gives each sample the same trajectory."""
    reordered = RadialBatch(configs[::-1], comm).run()
    for name, values in batched.series.items():
        assert reordered.series[name][::-1] == pytest.approx(values, rel=1e-6, abs=1e-9), name


def test_batch_refuses_samples_that_cannot_share_a_mesh(configs):
    other_mesh = load_config(None, BASE + ["geometry.mesh_size=0.05"])
    with pytest.raises(ConfigError, match=r"sample 1: \[geometry\] differs"):
        RadialBatch([configs[0], other_mesh])
    with pytest.raises(ConfigError, match="batches run the radial model only"):
        RadialBatch([load_config(None, ["output.progress=false"])])


def test_packed_residual_equals_dolfinx_assembly(configs, comm):
    """The batch's residual callback (coefficients packed once per solve) against a fresh assembly."""
    from rimmodel.fem import PETSc, dolfinx

    batch = RadialBatch(configs, comm)
    batch.set_initial_state()
    batch.stepper.initialise()
    problem, state = batch.stepper.problem, batch.stepper.state
    batch.stepper.dt.value = 0.1
    batch.residual.packed = dolfinx.fem.pack_coefficients(problem.F)  # as solve() does
    rng = np.random.default_rng(7)
    state.x.array[:] *= 1.0 + 0.1 * rng.random(state.x.array.size)  # a Newton iterate: only the state moved
    state.x.scatter_forward()
    x, packed, plain = problem.x, problem.b.duplicate(), problem.b.duplicate()
    dolfinx.fem.petsc.assign(state, x)
    batch.residual(problem.solver, x, packed)
    with plain.localForm() as local:
        local.set(0.0)
    dolfinx.fem.petsc.assemble_vector(plain, problem.F)
    plain.ghostUpdate(PETSc.InsertMode.ADD, PETSc.ScatterMode.REVERSE)
    plain.axpy(-1.0, packed)
    assert plain.norm() <= 1e-12 * packed.norm()
