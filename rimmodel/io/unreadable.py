"""A damaged, truncated or foreign data file: one line naming it, no traceback, no HDF5-DIAG dump.

Two HDF5 libraries live in one process with the PyPI wheels: h5py's and the one DOLFINx and
PETSc link. h5py silences its own automatic error printing; the other prints a ~40-line
"HDF5-DIAG" stack to stderr for every failed call, e.g. when XDMFFile opens a truncated mesh.
``hdf5_diagnostics_silenced`` turns that printing off (HDF5's ``H5Eset_auto2`` on every loaded
copy) for the duration of a read, and restores it after.
"""

from __future__ import annotations

import ctypes
import os
from contextlib import contextmanager
from pathlib import Path

import h5py

H5E_DEFAULT = ctypes.c_int64(0)  # hid_t of the default error stack
# what reading a damaged file raises: h5py (OSError, KeyError), numpy/json (ValueError), a
# missing element (AttributeError, TypeError, IndexError), an XML parser (SyntaxError)
READ_ERRORS = (OSError, KeyError, ValueError, AttributeError, TypeError, IndexError, SyntaxError, RuntimeError,
               StopIteration)


class UnreadableFile(ValueError):
    """A file that is not what rimmodel wrote (the command line prints it as one line)."""


def one_line(problem: BaseException) -> str:
    text = " ".join(str(problem).split()) or type(problem).__name__
    return text.strip("'\"")


@contextmanager
def reading(path: str | Path, what: str):
    """Turn any error raised while reading ``path`` into an UnreadableFile naming it."""
    try:
        with hdf5_diagnostics_silenced():
            yield
    except FileNotFoundError:
        raise
    except READ_ERRORS as problem:
        raise UnreadableFile(f"{path}: unreadable {what} (damaged, truncated or not written by rimmodel: "
                             f"{one_line(problem)})") from None


@contextmanager
def hdf5_file(path: str | Path, what: str):
    """``h5py.File(path, "r")`` whose failures name the file."""
    with reading(path, what), h5py.File(path, "r") as h5:
        yield h5


@contextmanager
def hdf5_diagnostics_silenced():
    libraries = _loaded_hdf5_libraries()
    saved = []
    for library in libraries:
        handler, data = ctypes.c_void_p(), ctypes.c_void_p()
        if library.H5Eget_auto2(H5E_DEFAULT, ctypes.byref(handler), ctypes.byref(data)) >= 0:
            saved.append((library, handler, data))
            library.H5Eset_auto2(H5E_DEFAULT, None, None)
    try:
        yield
    finally:
        for library, handler, data in saved:
            library.H5Eset_auto2(H5E_DEFAULT, handler, data)


def _loaded_hdf5_libraries() -> list:
    """Every HDF5 C library mapped into this process (Linux /proc; elsewhere none: nothing silenced)."""
    maps = Path(f"/proc/{os.getpid()}/maps")
    try:
        paths = {line.split()[-1] for line in maps.read_text().splitlines() if len(line.split()) >= 6}
    except OSError:
        return []
    libraries = []
    for path in sorted(p for p in paths if Path(p).name.startswith("libhdf5") and "_hl" not in Path(p).name):
        try:
            library = ctypes.CDLL(path)
            library.H5Eget_auto2.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p]
            library.H5Eset_auto2.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p]
        except (OSError, AttributeError):
            continue
        libraries.append(library)
    return libraries
