"""``rimmodel trial DESIGN.toml``: a patient-level trial design (a file with a ``[design]`` table)."""

from __future__ import annotations

from pathlib import Path

from rimmodel.config import ConfigError

CACHE_NAME = "lesion_library.h5"


def run_trial_design(config: Path, out: Path | None, cache: Path | None) -> int:
    from rimmodel.fem import MPI
    from rimmodel.patients.design import load_design
    from rimmodel.patients.report import write_outputs
    from rimmodel.patients.run import run_design

    comm = MPI.COMM_WORLD
    design = load_design(config)  # validated before anything runs
    out = out or Path("runs") / config.stem
    error = _claim(out, design.source) if comm.rank == 0 else None
    error = comm.bcast(error, root=0)
    if error:
        raise ConfigError(error)
    run = run_design(design, cache or out / CACHE_NAME, comm)
    if comm.rank == 0:
        report = write_outputs(run, out)
        first = run.results[0]
        for name, comparison in first.comparisons.items():
            hr = comparison.hazard_ratio
            print(f"rimmodel: {name} vs placebo: hazard ratio {hr.value:.2f} ({hr.low:.2f}-{hr.high:.2f}); "
                  f"events {first.arms[name].events}/{first.arms[name].patients} vs "
                  f"{first.arms['placebo'].events}/{first.arms['placebo'].patients}")
        print(f"rimmodel: trial report -> {report}")
    return 0


def _claim(out: Path, source: str) -> str | None:
    """An output directory belongs to one design: rerunning the same one rewrites identical results."""
    copy = out / "design.toml"
    if copy.exists() and copy.read_text() != source:
        return f"{out} holds the results of a different trial design (design.toml differs); choose another --out"
    return None
