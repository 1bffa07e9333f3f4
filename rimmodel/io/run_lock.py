"""One process at a time in a run directory: an exclusive lock on ``DIR/run.lock``.

``fcntl.flock`` is released by the kernel when its holder ends, however it ends
(SIGKILL included), so a lock left by a dead process never blocks a later run; the
file names its holder (pid, host, start) for the one-line refusal a second run
prints, and for the message when a dead holder's file is taken over. The file is
removed when its holder finishes. Where the file system offers no locks (flock fails
with ENOLCK / EOPNOTSUPP), the file's content decides instead: a holder on this host
whose process is gone is taken over; a live one, or one on another host, is refused.
On file systems whose locks are local to a node (Lustre without ``-o flock``), runs on
two nodes are not kept apart: docs/outputs.md says so.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path

from rimmodel.config import ConfigError
from rimmodel.io.liveness import process_gone, this_process

LOCK_FILE = "run.lock"
_NO_LOCKS = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL)


class RunDirectoryInUse(ValueError):
    """Another process is running in this directory (a ValueError: a bad --out, one line)."""


class RunLock:
    """Held by one rank (rank 0 of the run's communicator)."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LOCK_FILE
        self.taken_over: dict | None = None  # the dead holder whose lock this replaced
        self.fd = self._acquire()

    def release(self) -> None:
        if self.fd is None:
            return
        self.path.unlink(missing_ok=True)  # first: a waiting opener of this inode then retries
        os.close(self.fd)
        self.fd = None

    def _acquire(self) -> int:
        for _ in range(20):  # a holder may remove the file between our open and our lock: retry
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                holder = self._lock(fd)
                if _same_file(fd, self.path):
                    self._write_holder(fd, holder)
                    return fd
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
        raise RunDirectoryInUse(f"{self.path.parent}: could not take {LOCK_FILE} (it kept changing); "
                                f"is another rimmodel starting there?")

    def _lock(self, fd: int) -> dict:
        """Lock ``fd`` or raise RunDirectoryInUse; returns what the file said before."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunDirectoryInUse(self._busy_message(_read_holder(fd))) from None
        except OSError as error:
            if error.errno not in _NO_LOCKS:
                raise
            holder = _read_holder(fd)  # no locks here: judge by the recorded holder
            if holder and process_gone(holder) is not True:
                raise RunDirectoryInUse(self._busy_message(holder)) from None
            return holder
        return _read_holder(fd)

    def _write_holder(self, fd: int, previous: dict) -> None:
        if previous and previous.get("pid") is not None:
            self.taken_over = previous  # its holder ended without removing the file: killed
        me = this_process()
        text = json.dumps({"pid": me["pid"], "host": me["host"], "process_start": me["process_start"],
                           "since": me["heartbeat"]})
        os.ftruncate(fd, 0)
        os.pwrite(fd, text.encode(), 0)
        os.fsync(fd)

    def _busy_message(self, holder: dict) -> str:
        who = (f"pid {holder.get('pid')} on host {holder.get('host')}, since {holder.get('since')}"
               if holder else "another process")
        return (f"{self.path.parent} is in use by another rimmodel run ({who}); wait for it to end or "
                f"choose another --out (if that process is gone, delete {self.path})")


@contextmanager
def locked_run_directory(run_dir: Path, comm):
    """Create ``run_dir`` and hold its lock on rank 0 while the body runs. Collective: every rank
    raises the same error if the directory is in use. Yields the lock (None on other ranks)."""
    lock, error = None, None
    if comm.rank == 0:
        try:
            _make_directory(Path(run_dir))
            lock = RunLock(run_dir)
        except (RunDirectoryInUse, ConfigError) as failure:
            error = failure
    error = comm.bcast(error, root=0)
    if error is not None:
        raise error
    try:
        yield lock
    finally:
        if lock is not None:
            lock.release()


def _make_directory(run_dir: Path) -> None:
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ConfigError(f"--out {run_dir}: a file is in the way, not a directory") from None
    except PermissionError as error:
        raise ConfigError(f"--out {run_dir}: cannot create the run directory ({error.strerror})") from None


def _read_holder(fd: int) -> dict:
    try:
        text = os.pread(fd, 4096, 0).decode()
        holder = json.loads(text) if text.strip() else {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {"pid": None}  # written by something else, or cut short: not a live holder we can name
    return holder if isinstance(holder, dict) else {"pid": None}


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False
