"""Package attributes resolved on first use, so importing a package does not load heavy dependencies."""

from __future__ import annotations

from importlib import import_module


def lazy_exports(package: str, exports: dict[str, str]):
    """``(__getattr__, __all__)`` for a package whose ``exports`` map attribute -> defining module."""

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(exports[name]), name)

    return __getattr__, sorted(exports)
