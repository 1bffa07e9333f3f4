"""Parameter tables for the docs, generated from the ``param`` declarations (so they cannot drift).

Used for the model's table in docs/model.md (``rimmodel parameters --update``) and the synthetic
MRI's in docs/mri.md.
"""

from __future__ import annotations

import dataclasses

from rimmodel.config.parameters import ModelConfig

# numerical and output settings have no literature source
SETTINGS = ("geometry.kind", "geometry.mesh_size", "time.", "discretisation.", "solver.", "observables.", "output.")
BEGIN, END = "<!-- parameter-table:begin -->", "<!-- parameter-table:end -->"
HEADER = ["| key | default | unit | allowed | meaning | source |", "|---|---|---|---|---|---|"]


def _shown(value) -> str:
    if isinstance(value, (list, dict)) and len(str(value)) > 40:
        return "see below"
    return f"`{value:.4g}`" if isinstance(value, float) else f"`{value}`"


def table_rows(cls: type, default, prefix: str = "", settings: tuple[str, ...] = ()) -> list[str]:
    """One row per declared parameter of the dataclass ``cls`` (nested sections flattened);
    keys starting with one of ``settings`` are numerical settings, without a literature source."""
    rows = []
    for field in dataclasses.fields(cls):
        value = getattr(default, field.name)
        if dataclasses.is_dataclass(value):
            rows += table_rows(type(value), value, f"{prefix}{field.name}.", settings)
            continue
        spec = field.metadata["spec"]
        key = f"{prefix}{field.name}"
        source = "numerical setting" if key.startswith(settings) else spec.source
        rows.append(f"| `{key}` | {_shown(value)} | {spec.unit} | {spec.allowed()} | {spec.doc} | {source} |")
    return rows


def parameter_table() -> str:
    return "\n".join(HEADER + table_rows(ModelConfig, ModelConfig(), settings=SETTINGS))


def replace_between(document: str, begin: str, end: str, text: str) -> str:
    """``document`` with the text between the markers ``begin`` and ``end`` replaced by ``text``."""
    start, stop = document.index(begin) + len(begin), document.index(end)
    return document[:start] + "\n" + text + "\n" + document[stop:]


def with_table(document: str) -> str:
    """``document`` with the text between the table markers replaced by the current table."""
    return replace_between(document, BEGIN, END, parameter_table())
