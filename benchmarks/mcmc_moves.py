"""emcee proposals on a posterior with ridges: steps and wall time to convergence.

Calibration posteriors have ridges (a faster microglial activation needs a faster deactivation;
docs/calibration.md). This runs rimmodel's sampler (rimmodel.calibration.mcmc.sample, the
convergence rule of `rimmodel calibrate`) with each proposal on an 8-parameter posterior in the
unit cube: a curved ridge (x0 + x1^2 = 0.8, width 0.02), a straight one (x2 = x3, width 0.05) and
four parameters the data leave at their prior. Both runs share one seed and one machine, so the
ratios are like for like.

    python benchmarks/mcmc_moves.py            # ~1 min
"""

from __future__ import annotations

import time

import numpy as np

from rimmodel.calibration import mcmc

DIMENSION, WALKERS, CAP = 8, 48, 200_000


def log_posterior(unit: np.ndarray) -> np.ndarray:
    unit = np.atleast_2d(unit)
    inside = np.all((unit > 0.0) & (unit < 1.0), axis=1)
    curved = (unit[:, 0] + unit[:, 1] ** 2 - 0.8) / 0.02
    straight = (unit[:, 2] - unit[:, 3]) / 0.05
    return np.where(inside, -0.5 * (curved**2 + straight**2), -np.inf)


def main() -> None:
    found = {}
    for moves in mcmc.MOVES:
        started = time.perf_counter()
        chains = mcmc.sample(log_posterior, DIMENSION, WALKERS, CAP, seed=7, moves=moves)
        found[moves] = (chains, time.perf_counter() - started)
        print(f"{moves:>22}: {'converged' if chains.converged else 'NOT converged'} after {chains.steps} steps "
              f"per walker in {found[moves][1]:.1f} s; largest autocorrelation time "
              f"{np.nanmax(chains.autocorrelation):.0f} steps; acceptance {chains.acceptance.mean():.2f}")
    (de, de_s), (stretch, stretch_s) = found["differential-evolution"], found["stretch"]
    print(f"differential-evolution / stretch: steps {de.steps / stretch.steps:.2f}, wall time "
          f"{de_s / stretch_s:.2f}, largest autocorrelation time "
          f"{np.nanmax(de.autocorrelation) / np.nanmax(stretch.autocorrelation):.2f}")


if __name__ == "__main__":
    main()
