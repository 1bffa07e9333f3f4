"""Integration measures that carry a reduced coordinate system's volume element.

``integrand * WeightedMeasure(dx, w)`` is ``(w * integrand) * dx``: UFL expressions
return NotImplemented when multiplied by anything but numbers and expressions, so
Python falls back to ``WeightedMeasure.__rmul__``. The equations therefore integrate
against ``tissue.dx`` as always and become the spherical (or axisymmetric) model
without knowing it. ``measure(tag)`` and ``measure(metadata=...)`` keep the weight.

With mass lumping the reactions use vertex quadrature, which would evaluate r^2 at
the vertices: the node at r = 0 would get no mass at all, and myelin and axons, which
have no transport term, a zero row in the Jacobian. The lumped weight is instead a
DG1 function whose vertex values reproduce the exact row sums of the weighted mass
matrix, int_K w phi_i dx, cell by cell: the lumped mass of node i is then int w phi_i.
"""

from __future__ import annotations

import ufl

from rimmodel.fem import dolfinx, fem
from rimmodel.geometry.domain import Domain


class WeightedMeasure:
    def __init__(self, measure: ufl.Measure, weight):
        self.measure, self.weight = measure, weight

    def __rmul__(self, integrand):
        return (self.weight * integrand) * self.measure

    def __call__(self, *args, **kwargs) -> WeightedMeasure:
        return WeightedMeasure(self.measure(*args, **kwargs), self.weight)

    def __repr__(self) -> str:
        return f"WeightedMeasure({self.measure!r}, {self.weight!r})"


def with_volume_element(domain: Domain, dx, dx_reaction, ds, lumped: bool):
    """The tissue measures of ``domain`` carrying its volume element (unchanged if cartesian).
    ``lumped``: ``dx_reaction`` is a vertex-quadrature measure. Collective."""
    weight = domain.coordinates.volume_element(domain.mesh)
    if weight is None:
        return dx, dx_reaction, ds
    reaction_weight = lumped_weight(domain.mesh, weight) if lumped else weight
    return (WeightedMeasure(dx, weight), WeightedMeasure(dx_reaction, reaction_weight),
            WeightedMeasure(ds, weight))


def volume_measure(domain: Domain, **measure_args):
    """``dx`` over ``domain`` in its 3D volume: weighted if the coordinates are reduced."""
    dx = ufl.Measure("dx", domain=domain.mesh, **measure_args)
    weight = domain.coordinates.volume_element(domain.mesh)
    return dx if weight is None else WeightedMeasure(dx, weight)


def lumped_weight(mesh, weight) -> fem.Function:
    """DG1 w_h with w_h(x_i)|_K = int_K w phi_i dx / int_K phi_i dx at each vertex i of each cell K."""
    pair = fem.functionspace(mesh, ("DG", 1, (2,)))  # both integrals from one form: one compilation
    test = ufl.TestFunction(pair)
    integrals = fem.assemble_vector(fem.form((weight * test[0] + test[1]) * ufl.dx))
    integrals.scatter_reverse(dolfinx.la.InsertMode.add)
    integrals.scatter_forward()  # ghost entries too: every local dof below is then complete
    space, weighted = pair.sub(0).collapse()
    _, plain = pair.sub(1).collapse()
    lumped = fem.Function(space, name="lumped_volume_element")
    lumped.x.array[:] = integrals.array[weighted] / integrals.array[plain]
    return lumped
