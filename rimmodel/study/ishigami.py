"""The Ishigami function: a standard sensitivity-analysis test with analytical Sobol' indices.

y = sin x1 + a sin^2 x2 + b x3^4 sin x1,  x_i ~ U(-pi, pi)  (Ishigami & Homma 1990;
indices as in Sobol' & Levitan 1999). x3 matters only through its interaction with x1.
"""

from __future__ import annotations

import math

A, B = 7.0, 0.1


def ishigami(x1: float, x2: float, x3: float, a: float = A, b: float = B) -> float:
    return math.sin(x1) + a * math.sin(x2) ** 2 + b * x3**4 * math.sin(x1)


def analytical_indices(a: float = A, b: float = B) -> dict[str, dict[str, float]]:
    """First-order (S1) and total (ST) Sobol' indices."""
    pi4, pi8 = math.pi**4, math.pi**8
    v1 = 0.5 * (1 + b * pi4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi8 * (1 / 18 - 1 / 50)
    variance = v1 + v2 + v13
    return {"S1": {"x1": v1 / variance, "x2": v2 / variance, "x3": 0.0},
            "ST": {"x1": (v1 + v13) / variance, "x2": v2 / variance, "x3": v13 / variance}}
