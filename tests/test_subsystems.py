"""Reduced systems: the full model's fields where they apply, on fewer unknowns."""

import math

import numpy as np
import pytest

from rimmodel.config import load_config
from rimmodel.fem import MPI, fem
from rimmodel.physics.equations import FIELDS
from rimmodel.pharmacology import occupancy_course
from rimmodel.physics.subsystems import FisherKPP, MicrogliaMediator
from rimmodel.verification.fisher_kpp import fisher_kpp_config, interval_domain
from rimmodel.verification.manufactured import unit_domain
from rimmodel.verification.problem import build_stepper, march

# O(1) rates so that chemotaxis, saturation, cortex content and BTK all act within a few steps;
# myelin and axons are not damaged and no follicle factor is released, so y = a = 1 and f = 0 hold.
MEDIATOR_RATES = (
    "microglia.diffusivity=0.1", "microglia.chemotactic_sensitivity=0.3", "microglia.activation_rate=2.0",
    "microglia.basal_growth_rate=0.2", "microglia.resting_pool=0.05", "microglia.deactivation_rate=0.5",
    "mediator.diffusivity=1.0", "mediator.decay_rate=3.0", "mediator.debris_production=4.0",
    "mediator.microglial_production=0.5", "myelin.cortical_content=0.5", "btk.cns_occupancy=0.4",
    "btk.microglial_efficacy=0.5", "myelin.microglial_damage_rate=0.0", "myelin.follicle_damage_rate=0.0",
    "axons.microglial_damage_rate=0.0", "follicles.pial_flux=0.0", "follicles.patches=[]",
)


def bump(x: np.ndarray) -> np.ndarray:
    """A microglial patch off-centre, so that it straddles the white matter/cortex border."""
    return 0.8 * np.exp(-((x[0] - 0.4) ** 2 + (x[1] - 0.3) ** 2) / 0.05)


def front(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 - np.tanh((x[0] - 5.0) / 0.5))


def full_state(microglia, mediator_share: float):
    """The five-field initial state: intact myelin and axons, no follicle factor."""
    def values(x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(FIELDS), x.shape[1]))
        out[FIELDS.index("microglia")] = microglia(x)
        out[FIELDS.index("mediator")] = mediator_share * microglia(x)
        out[FIELDS.index("myelin")] = out[FIELDS.index("axons")] = 1.0
        return out
    return values


def advanced(stepper, initial, steps: int = 6, dt: float = 0.05) -> list[np.ndarray]:
    """Each field's values (collapsed, so both spaces number dofs alike) after ``steps`` BDF2 steps."""
    stepper.state.interpolate(initial)
    stepper.initialise()
    march(stepper, dt, steps)
    count = stepper.state.function_space.num_sub_spaces
    if count == 0:   # one component: a blocked space of block size 1 has no sub-spaces
        return [stepper.state.x.array]
    return [stepper.state.sub(i).collapse().x.array for i in range(count)]


def test_microglia_mediator_reproduces_the_full_model_with_intact_myelin(comm):
    config = load_config(None, MEDIATOR_RATES)
    domain = unit_domain(comm, 2, 8)
    full, _ = build_stepper(domain, config)
    reduced, _ = build_stepper(domain, config, equations=MicrogliaMediator(domain.mesh, config, occupancy_course(config)))
    assert reduced.state.function_space.num_sub_spaces == 2
    expected = advanced(full, full_state(bump, 0.5))
    m, c = advanced(reduced, lambda x: np.stack([bump(x), 0.5 * bump(x)]))
    assert comm.allreduce(float(np.ptp(m)) if m.size else 0.0, op=MPI.MAX) > 0.1   # something happened
    for name, values in (("microglia", m), ("mediator", c)):
        difference = np.abs(values - expected[FIELDS.index(name)]).max(initial=0.0)
        assert comm.allreduce(difference, op=MPI.MAX) < 1e-10
    myelin_change = np.abs(expected[FIELDS.index("myelin")] - 1.0).max(initial=0.0)
    assert comm.allreduce(myelin_change, op=MPI.MAX) < 1e-12   # the premise: myelin really stays intact


def test_fisher_kpp_reproduces_the_full_model_in_its_limit(comm):
    config = fisher_kpp_config(diffusivity=1.0, growth_rate=1.0, scheme="bdf2")
    domain = interval_domain(comm, 20.0, 40)
    full, _ = build_stepper(domain, config)
    reduced, _ = build_stepper(domain, config, equations=FisherKPP(domain.mesh, config))
    expected = advanced(full, full_state(front, 0.0), dt=0.2)
    (m,) = advanced(reduced, lambda x: front(x)[None], dt=0.2)
    difference = np.abs(m - expected[FIELDS.index("microglia")]).max(initial=0.0)
    assert comm.allreduce(difference, op=MPI.MAX) < 1e-10


def test_fisher_kpp_front_moves_at_two_sqrt_dr(comm):
    """m_t = m_xx + m(1 - m) from a steep front: speed 2, after the Bramson correction -3/(2 t)."""
    config = fisher_kpp_config(diffusivity=1.0, growth_rate=1.0, scheme="bdf2")
    domain = interval_domain(comm, 100.0, 500)
    stepper, tissue = build_stepper(domain, config, equations=FisherKPP(domain.mesh, config))
    stepper.state.interpolate(lambda x: front(x)[None])
    stepper.initialise()
    mass = fem.form(stepper.state[0] * tissue.dx)
    times, positions = [], []

    def record(t: float) -> None:
        times.append(t)
        positions.append(comm.allreduce(fem.assemble_scalar(mass), op=MPI.SUM))

    march(stepper, 0.1, 400, record)
    late = np.asarray(times) >= 20.0
    corrected = np.asarray(positions)[late] + 1.5 * np.log(np.asarray(times)[late])
    speed = np.polyfit(np.asarray(times)[late], corrected, 1)[0]
    assert speed == pytest.approx(2.0 * math.sqrt(1.0 * 1.0), rel=0.02)


def test_reduced_systems_print_their_equations_and_values(comm):
    config = load_config(None, MEDIATOR_RATES)
    domain = interval_domain(comm, 1.0, 4)
    text = str(MicrogliaMediator(domain.mesh, config, occupancy_course(config)))
    assert "chi m (1 - m) grad c" in text and "chi=0.3" in text and "E_m=0.5" in text
    text = str(FisherKPP(domain.mesh, config))
    assert text.startswith("FisherKPP") and "r_0 m (1 - m)" in text and "D_m=0.1" in text and "chi" not in text
