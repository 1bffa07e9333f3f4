"""The parameter table of docs/model.md, generated from the declarations (so it cannot drift)."""

from __future__ import annotations

import dataclasses

from rimmodel.config.parameters import ModelConfig

# numerical and output settings have no literature source
SETTINGS = ("geometry.kind", "geometry.mesh_size", "time.", "discretisation.", "solver.", "observables.", "output.")
BEGIN, END = "<!-- parameter-table:begin -->", "<!-- parameter-table:end -->"


def _rows(cls: type, prefix: str, default) -> list[str]:
    rows = []
    for field in dataclasses.fields(cls):
        value = getattr(default, field.name)
        if dataclasses.is_dataclass(value):
            rows += _rows(type(value), f"{prefix}{field.name}.", value)
            continue
        spec = field.metadata["spec"]
        key = f"{prefix}{field.name}"
        source = "numerical setting" if key.startswith(SETTINGS) else spec.source
        shown = "see below" if isinstance(value, (list, dict)) and len(str(value)) > 40 else f"`{value}`"
        rows.append(f"| `{key}` | {shown} | {spec.unit} | {spec.allowed()} | {spec.doc} | {source} |")
    return rows


def parameter_table() -> str:
    header = ["| key | default | unit | allowed | meaning | source |", "|---|---|---|---|---|---|"]
    return "\n".join(header + _rows(ModelConfig, "", ModelConfig()))


def with_table(document: str) -> str:
    """``document`` with the text between the table markers replaced by the current table."""
    start, stop = document.index(BEGIN) + len(BEGIN), document.index(END)
    return document[:start] + "\n" + parameter_table() + "\n" + document[stop:]
