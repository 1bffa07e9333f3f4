"""Set up and march the model's equations on a verification domain (no run directory, no outputs)."""

from __future__ import annotations

from rimmodel.fem import fem
from rimmodel.geometry.domain import Domain
from rimmodel.physics.equations import Equations, RimEquations, Tissue
from rimmodel.pharmacology.schedule import PiecewiseConstantOccupancy
from rimmodel.solver.discretisation import build_tissue
from rimmodel.solver.stepper import BDFStepper


def build_stepper(domain: Domain, config, scheme: str = "bdf2", equations: Equations | None = None,
                  forcing=None) -> tuple[BDFStepper, Tissue]:
    """The model's equations by default; any ``Equations`` (e.g. a reduced system) on as many fields."""
    if equations is None:
        equations = RimEquations(domain.mesh, config, PiecewiseConstantOccupancy.from_parameters(config.btk))
    degree = config.discretisation.degree
    space = fem.functionspace(domain.mesh, ("Lagrange", degree, (len(equations.fields),)))
    # not space.sub(0): a one-component blocked space has no sub-spaces
    tissue = build_tissue(domain, fem.functionspace(domain.mesh, ("Lagrange", degree)), config)
    stepper = BDFStepper(equations, tissue, space, scheme, config.solver.petsc_options, 1e-9, forcing,
                         config.solver.jacobian_reuse)
    return stepper, tissue


def march(stepper: BDFStepper, dt: float, steps: int, after_step=None) -> float:
    """Fixed steps from t = 0 (verification wants no adaptivity); returns the final time."""
    t = 0.0
    for _ in range(steps):
        outcome = stepper.try_step(t, dt)
        if not outcome.accepted:
            raise RuntimeError(f"verification step from t = {t:g} rejected: {outcome.reason}")
        stepper.accept(dt)
        t += dt
        if after_step is not None:
            after_step(t)
    return t
