"""A single-node Slurm cluster on localhost, for trying the hpc/ scripts (and for the tests).

    sudo python hpc/local_slurm.py start DIR   # munged, slurmctld, slurmd; state under DIR
    export SLURM_CONF=DIR/slurm.conf           # then sbatch / squeue / sinfo as usual
    sudo python hpc/local_slurm.py stop DIR

Needs root and Debian's ``slurm-wlm`` and ``munge`` packages. Everything (config,
state, spool, logs, pid files, munge socket) lives in DIR, and only the daemons
started here are stopped, by their pid files. Ports are picked free at start.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DAEMONS = ("slurmd", "slurmctld", "munged")


def slurm_conf(root: Path, cpus: int, ports: tuple[int, int]) -> str:
    return f"""ClusterName=rimmodel-local
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={root}/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
SlurmctldPort={ports[0]}
SlurmdPort={ports[1]}
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=localhost NodeHostname=localhost CPUs={cpus} State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


def missing_requirements() -> str | None:
    """Why this machine cannot run the cluster, or None."""
    if os.geteuid() != 0:
        return "the daemons must run as root (munged --force, SlurmUser=root)"
    absent = [name for name in ("munged", "slurmctld", "slurmd", "sbatch") if shutil.which(name) is None]
    return f"not installed: {', '.join(absent)} (apt-get install slurm-wlm munge)" if absent else None


def install() -> None:
    """apt-get the packages if missing (root only)."""
    if all(shutil.which(name) for name in ("munged", "slurmctld", "slurmd", "sbatch")):
        return
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "slurm-wlm", "munge"], check=True, env=env,
                   capture_output=True)


def start(root: Path, cpus: int | None = None, timeout: float = 60.0) -> dict[str, str]:
    """Start the three daemons; returns the environment for client commands."""
    root = Path(root).resolve()
    for sub in ("state", "spool"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "slurm.conf").write_text(slurm_conf(root, cpus or os.cpu_count() or 1, _free_ports()))
    conf = str(root / "slurm.conf")
    subprocess.run(["munged", "--force", f"--socket={root}/munge.socket", f"--pid-file={root}/munged.pid",
                    f"--log-file={root}/munged.log", f"--seed-file={root}/munged.seed"], check=True)
    subprocess.run(["slurmctld", "-f", conf, "-i"], check=True)  # -i: ignore state from earlier runs
    subprocess.run(["slurmd", "-f", conf, "-N", "localhost"], check=True)
    env = os.environ | {"SLURM_CONF": conf}
    _wait_for_idle_node(env, timeout)
    return env


def stop(root: Path) -> None:
    for daemon in DAEMONS:
        pid_file = Path(root) / f"{daemon}.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError, IndexError):
            continue
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except OSError:
                break
            time.sleep(0.1)


def _free_ports() -> tuple[int, int]:
    sockets = [socket.socket() for _ in range(2)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = tuple(s.getsockname()[1] for s in sockets)
    for s in sockets:
        s.close()
    return ports


def _wait_for_idle_node(env: dict, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True).stdout
        if "idle" in state:
            return
        time.sleep(0.5)
    raise RuntimeError(f"the local Slurm node did not become idle within {timeout:.0f} s (sinfo: {state!r})")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("start", "stop"):
        sys.exit(__doc__)
    if sys.argv[1] == "start":
        start(Path(sys.argv[2]))
        print(f"export SLURM_CONF={Path(sys.argv[2]).resolve()}/slurm.conf")
    else:
        stop(Path(sys.argv[2]))
