"""PROJECTION (a model, not a measurement) of weak-scaling efficiency at 64-1024 ranks.

    .venv/bin/python benchmarks/weak_scaling_projection.py                # the JSON in benchmarks/results/
    .venv/bin/python benchmarks/weak_scaling_projection.py --latency 5e-6 --bandwidth 1e9

Reads what benchmarks/scaling.py measured on this machine and prints, for each rank count P,
the time per step of a rank holding n DOFs and the efficiency T(1)/T(P):

    T(P) = imbalance(P) * compute(P) + halo(P) + allreduce(P)
    compute(P)   = n * (c_F * F + (c_J + c_S) * J + c_K * K(P) + c_O)   per step
    K(P)         = K(1) * (1 + s_N log2 P) * (1 + s_B log2 P)
    halo(P)      = exchanges(P) * (neighbours(P) * latency + bytes(P) / bandwidth)
    allreduce(P) = reductions(P) * ceil(log2 P) * latency_allreduce

Measured here (JSON): the per-DOF costs c_F, c_J, c_S, c_K, c_O of residual assembly, Jacobian
assembly, preconditioner setup, one Krylov iteration and the rest (1-rank strong case); F, J, K
per step; s_N, the growth of Krylov iterations per doubling of the problem on one rank (``--size``)
and s_B, the growth per doubling of the rank count once s_N is divided out (``--weak``); the
halo exchanges and bytes per Krylov iteration and per assembly, and the reductions per Krylov
iteration, from the PETSc log at 2 ranks; ghost DOFs, neighbours and imbalance of the partition
at the largest rank count measured (``--partition``), ghosts scaled to n by surface-to-volume
(n^(2/3)); GAMG levels (one more every ``--coarsening``-fold growth of the problem, whose
exchanges grow in proportion). ASSUMED (options, printed): the network's latency and per-rank
bandwidth, and the coarsening factor. NOT modelled: memory-bandwidth sharing between the cores
of a cluster node (a 2-core machine cannot show it; hpc/weak_scaling.sbatch measures it),
OS noise, and contention in the network.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
RANKS = (64, 128, 256, 512, 1024)
REDUCTION_EVENTS = ("VecMDot", "VecNorm", "VecDot")  # VecNormalize calls VecNorm (see scaling_case.py)


def load(path: Path, mode: str) -> list[dict]:
    data = json.loads(path.read_text())
    if data["mode"] != mode:
        raise SystemExit(f"{path}: expected a {mode} run of benchmarks/scaling.py, got {data['mode']}")
    return sorted(data["summary"], key=lambda e: (e["ranks"], e["area_factor"]))


def per_step(entry: dict) -> dict:
    """Counts per accepted step: residuals F, Jacobian builds J, Krylov iterations K."""
    steps = entry["steps"]
    return {"F": entry["events"]["SNESFunctionEval"]["count"] / steps, "J": entry["jacobian_builds"] / steps,
            "K": entry["krylov_iterations"] / steps}


def unit_costs(serial: dict) -> dict:
    """Seconds per DOF of one residual, one Jacobian build, one PC setup, one Krylov iteration
    and of the rest of a step (observables, Python, the time loop), on one rank."""
    t, n, steps = serial["timing"], serial["dofs"], serial["steps"]
    builds = serial["jacobian_builds"]
    solver = ("residual_assembly", "jacobian_assembly", "factorisation", "triangular_solves")
    return {"c_F": t["residual_assembly"] / (serial["events"]["SNESFunctionEval"]["count"] * n),
            "c_J": t["jacobian_assembly"] / (builds * n), "c_S": t["factorisation"] / (builds * n),
            "c_K": t["triangular_solves"] / (serial["krylov_iterations"] * n),
            "c_O": (t["total"] - sum(t[p] for p in solver)) / (steps * n)}


def log2_slope(points: list[tuple[float, float]]) -> float:
    """Least-squares s in y/y0 = 1 + s log2(x/x0) through the first point, at least 0: identical
    runs differ by a few per cent in iterations, and a falling trend is not to be extrapolated."""
    (x0, y0), rest = points[0], points[1:]
    u = np.array([math.log2(x / x0) for x, _ in rest])
    v = np.array([y / y0 - 1 for _, y in rest])
    return max(float(u @ v / (u @ u)), 0.0) if len(rest) and u @ u > 0 else 0.0


def iteration_growth(size: list[dict], weak: list[dict]) -> tuple[float, float]:
    """s_N from problem size on one rank, s_B from the rank count with s_N divided out."""
    s_n = log2_slope([(e["dofs"], per_step(e)["K"]) for e in size])
    k1 = per_step(weak[0])["K"]
    rank_points = [(1.0, 1.0)] + [(e["ranks"] / weak[0]["ranks"], per_step(e)["K"] / k1
                                   / (1 + s_n * math.log2(e["dofs"] / weak[0]["dofs"]))) for e in weak[1:]]
    return s_n, log2_slope(rank_points)


def communication(parallel: dict) -> dict:
    """Per rank, from the PETSc log of a parallel case. PETSc logs a message once when sent and
    once when received (checked), so a rank's sends are half its count; an exchange is one send
    to each neighbour."""
    ev, ranks, k, steps = parallel["events"], parallel["ranks"], parallel["krylov_iterations"], parallel["steps"]
    neighbours = float(np.mean(parallel["partition"]["neighbours"]))
    outside = ("SNESFunctionEval", "SNESJacobianEval", "PCSetUp")
    sends = {"K": ev["KSPSolve"]["messages"] / (2 * ranks * k),
             "other": sum(ev[n]["messages"] for n in outside) / (2 * ranks * steps)}
    sent = {"K": ev["KSPSolve"]["bytes"] / (2 * ranks * k),
            "other": sum(ev[n]["bytes"] for n in outside) / (2 * ranks * steps)}
    return {"exchanges_K": sends["K"] / neighbours, "bytes_K": sent["K"],
            "exchanges_other": sends["other"] / neighbours, "bytes_other": sent["other"],
            "reductions_K": sum(ev[n]["count"] for n in REDUCTION_EVENTS) / k,
            "ghosts": float(np.mean(parallel["partition"]["ghost_dofs"])),
            "gamg_levels": parallel["solver"].get("gamg_levels")}


def partition_at_scale(partition: list[dict]) -> dict:
    """Ghosts (per owned^(2/3)), neighbours and imbalance at the largest rank count measured."""
    last = partition[-1]["partition"]
    owned, ghosts = np.array(last["owned_dofs"]), np.array(last["ghost_dofs"])
    return {"ranks": partition[-1]["ranks"], "surface": float(np.max(ghosts / owned ** (2 / 3))),
            "neighbours": max(last["neighbours"]), "imbalance": float(owned.max() / owned.mean())}


def one_rank_step(n: float, costs: dict, counts: dict) -> float:
    """Seconds per step of n DOFs on one rank, from the measured per-DOF costs."""
    return n * (costs["c_F"] * counts["F"] + (costs["c_J"] + costs["c_S"]) * counts["J"]
                + costs["c_K"] * counts["K"] + costs["c_O"])


def krylov_per_step(ranks: int, n: float, counts: dict, growth: tuple[float, float], measured_dofs: int) -> float:
    s_n, s_b = growth
    doublings = max(math.log2(ranks * n / measured_dofs), 0.0)  # of the problem, from the measured one
    return counts["K"] * (1 + s_n * doublings) * (1 + s_b * math.log2(ranks))


def halo_seconds(ranks: int, n: float, krylov: float, comm: dict, part: dict, args) -> float:
    """Latency per message to each neighbour plus bytes over the per-rank bandwidth. Each extra
    GAMG level is charged the measured exchanges of an average level (all exchanges counted as
    multigrid ones: an overestimate); bytes grow with the ghosts (surface to volume)."""
    levels = comm["gamg_levels"] or []
    extra = max(math.log(ranks * n / comm["dofs_measured"]) / math.log(args.coarsening), 0.0)
    exchanges = comm["exchanges_K"] * (1 + extra * len(levels) / max(sum(levels), 1)) * krylov \
        + comm["exchanges_other"]
    ghosts = part["surface"] * n ** (2 / 3)
    sent = (comm["bytes_K"] * krylov + comm["bytes_other"]) * ghosts / comm["ghosts"]
    return exchanges * part["neighbours"] * args.latency + sent / args.bandwidth


def project(n: float, costs: dict, counts: dict, growth: tuple[float, float], comm: dict, part: dict,
            args) -> list[dict]:
    compute_1 = one_rank_step(n, costs, counts)
    rows = []
    for ranks in RANKS:
        krylov = krylov_per_step(ranks, n, counts, growth, comm["dofs_measured"])
        compute = part["imbalance"] * (compute_1 + n * costs["c_K"] * (krylov - counts["K"]))
        halo = halo_seconds(ranks, n, krylov, comm, part, args)
        allreduce = comm["reductions_K"] * krylov * math.ceil(math.log2(ranks)) * args.allreduce_latency
        total = compute + halo + allreduce
        rows.append({"ranks": ranks, "dofs": ranks * n, "krylov": krylov, "compute": compute, "halo": halo,
                     "allreduce": allreduce, "total": total, "efficiency": compute_1 / total})
    return rows


def print_table(n: float, rows: list[dict], compute_1: float, kib_per_dof: float) -> None:
    print(f"\nPROJECTION, n = {n:,.0f} DOFs per rank (1 rank: {compute_1:.2f} s per step; memory "
          f"~{n * kib_per_dof / 2**20:.1f} GiB per rank at the measured {kib_per_dof:.2f} KiB/DOF)")
    print(f"{'ranks':>6} {'DOFs':>14} {'Krylov/step':>11} {'compute s':>9} {'halo s':>8} {'allreduce s':>11} "
          f"{'total s':>8} {'efficiency':>10}")
    for r in rows:
        print(f"{r['ranks']:>6} {r['dofs']:>14,.0f} {r['krylov']:>11.1f} {r['compute']:>9.2f} {r['halo']:>8.3f} "
              f"{r['allreduce']:>11.4f} {r['total']:>8.2f} {r['efficiency']:>10.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strong", type=Path, default=RESULTS / "scaling_strong.json")
    parser.add_argument("--size", type=Path, default=RESULTS / "scaling_size.json")
    parser.add_argument("--weak", type=Path, default=RESULTS / "scaling_weak.json")
    parser.add_argument("--partition", type=Path, default=RESULTS / "scaling_partition.json")
    parser.add_argument("--dofs-per-rank", type=float, nargs="+",
                        help="default: the 2-rank strong case's, and 50k (where communication starts to show)")
    parser.add_argument("--latency", type=float, default=2e-6,
                        help="ASSUMED point-to-point latency per message, s (InfiniBand HDR/EDR MPI: 1-2 us)")
    parser.add_argument("--allreduce-latency", type=float, default=3e-6,
                        help="ASSUMED latency of one step of a recursive-doubling allreduce, s")
    parser.add_argument("--bandwidth", type=float, default=0.4e9,
                        help="ASSUMED bandwidth per rank, B/s (a 200 Gb/s link shared by 64 ranks of a node)")
    parser.add_argument("--coarsening", type=float, default=16.0,
                        help="ASSUMED growth of the problem per extra GAMG level: 4 levels were measured from "
                        "32k to 236k DOFs per block, i.e. 17-25x per level at PETSc's 50-equation coarse limit")
    args = parser.parse_args()
    serial, parallel = load(args.strong, "strong")[:2]
    costs, counts = unit_costs(serial), per_step(serial)
    growth = iteration_growth(load(args.size, "grow"), load(args.weak, "weak"))
    comm = communication(parallel) | {"dofs_measured": parallel["dofs"]}
    part = partition_at_scale(load(args.partition, "weak"))
    print_inputs(serial, parallel, costs, counts, growth, comm, part, args)
    kib_per_dof = sum(parallel["peak_mib_per_rank"]) * 1024 / parallel["dofs"]
    for n in args.dofs_per_rank or (parallel["dofs"] / parallel["ranks"], 5e4):
        rows = project(n, costs, counts, growth, comm, part, args)
        print_table(n, rows, one_rank_step(n, costs, counts), kib_per_dof)


def print_inputs(serial, parallel, costs, counts, growth, comm, part, args) -> None:
    print(__doc__.split("\n\n")[0])
    print(f"measured: per DOF (1 rank, {serial['dofs']:,} DOFs) "
          + ", ".join(f"{k} = {v:.3g} s" for k, v in costs.items()))
    print(f"measured: per step F = {counts['F']:.1f} residuals, J = {counts['J']:.2f} Jacobian builds, "
          f"K = {counts['K']:.1f} Krylov iterations; growth per doubling: size s_N = {growth[0]:+.3f}, "
          f"ranks s_B = {growth[1]:+.3f}")
    print(f"measured: per rank at {parallel['ranks']} ranks, {comm['exchanges_K']:.1f} halo exchanges and "
          f"{comm['bytes_K'] / 1024:.0f} KiB sent per Krylov iteration, {comm['reductions_K']:.2f} reductions per "
          f"Krylov iteration, {comm['ghosts']:,.0f} ghost DOFs; GAMG levels {comm['gamg_levels']}")
    print(f"measured: partition at {part['ranks']} ranks: ghosts = {part['surface']:.1f} n^(2/3), "
          f"{part['neighbours']} neighbours (max), imbalance {part['imbalance']:.3f}")
    n = parallel["dofs"] / parallel["ranks"]
    print(f"check: the model's 1-rank step at n = {n:,.0f} is {one_rank_step(n, costs, counts):.2f} s; measured at "
          f"{parallel['ranks']} ranks: {parallel['timing']['total'] / parallel['steps']:.2f} s per step")
    print(f"ASSUMED: latency {args.latency:.1e} s, allreduce step {args.allreduce_latency:.1e} s, "
          f"bandwidth {args.bandwidth:.2e} B/s per rank, one GAMG level per {args.coarsening:g}x problem size")


if __name__ == "__main__":
    main()
