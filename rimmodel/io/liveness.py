"""Which process wrote a file, and whether it still runs: for run locks and stale ``running`` statuses.

A process is named by pid, host and its start time as the kernel counts it
(``/proc/<pid>/stat``), so a pid reused by an unrelated process after a reboot or
a long time is not mistaken for the writer. Only a process on this host can be
checked; for another host the answer is "unknown" and callers fall back on the
heartbeat time written beside it. Standard library only: readers need no FEM stack.
"""

from __future__ import annotations

import datetime
import os
import socket
import time


def this_process() -> dict:
    """pid, host and start of the calling process, and the time now (a heartbeat)."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "process_start": _start_ticks(os.getpid()),
            "heartbeat": utc_now(), "heartbeat_unix": time.time()}


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def process_gone(holder: dict) -> bool | None:
    """True if ``holder`` (as from ``this_process``) ran on this host and has ended; False if it
    still runs; None if it ran on another host (this host cannot tell)."""
    if holder.get("host") != socket.gethostname():
        return None
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # OverflowError: no pid is that large
        return True
    except PermissionError:
        pass  # exists, owned by someone else
    fields = _stat_fields(pid)
    if fields and fields[0] in ("Z", "X"):
        return True  # ended, not yet reaped by its parent
    started = holder.get("process_start")
    return started is not None and fields is not None and int(fields[19]) != started  # the pid was reused


def _start_ticks(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None  # field 22 of stat(5): start after boot, in clock ticks


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (the state) on; None where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat") as stream:
            fields = stream.read().rsplit(")", 1)[1].split()
        int(fields[19])
        return fields
    except (OSError, IndexError, ValueError):
        return None
