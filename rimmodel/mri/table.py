"""A small table of read-outs over time: named columns with units, written as CSV or printed."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class ReadoutTable:
    """Columns of equal length; ``nan`` marks a value not defined at that time (e.g. no earlier scan)."""

    columns: dict[str, np.ndarray] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, values, unit: str) -> None:
        values = np.asarray(values, dtype=float)
        if self.columns and len(values) != len(next(iter(self.columns.values()))):
            raise ValueError(f"column {name!r} has {len(values)} rows, the table {len(self)}")
        self.columns[name], self.units[name] = values, unit

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def joined(self, other: ReadoutTable, on: str = "time_yr") -> ReadoutTable:
        """Both tables' columns side by side; their ``on`` columns must agree."""
        if not np.allclose(self[on], other[on]):
            raise ValueError(f"tables differ in {on}: {self[on]} vs {other[on]}")
        table = ReadoutTable(dict(self.columns), dict(self.units))
        for name in other.columns:
            if name != on:
                table.add(name, other[name], other.units[name])
        return table

    def write_csv(self, path: str | Path) -> Path:
        """Header row of column names (units: ``self.units``, docs/mri.md); empty cells where undefined."""
        path = Path(path)
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(list(self.columns))
            for row in zip(*self.columns.values()):
                writer.writerow(["" if np.isnan(v) else _number(v, digits=17) for v in row])
        return path

    def format(self) -> str:
        """Aligned plain text, transposed to fit a terminal: one line per column, one column per row."""
        cells = [[f"{name} [{self.units[name]}]"] + ["-" if np.isnan(v) else _number(v) for v in values]
                 for name, values in self.columns.items()]
        widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))] if cells else []
        lines = [[line[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(line[1:], widths[1:])] for line in cells]
        return "\n".join("  ".join(line) for line in lines)


def _number(value: float, digits: int = 4) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.{digits}g}"
