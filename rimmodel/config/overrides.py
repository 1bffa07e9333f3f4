"""``--set`` for files that hold a model config inside them: trial and study TOMLs.

``--set trial.lesions=4`` (or ``study.samples=8``) sets the file's own table; any other key,
e.g. ``--set time.end=2``, goes into its ``[model]`` table: the base model config every run
of the trial or study starts from. Values are read as TOML literals, as for ``rimmodel run``.
"""

from __future__ import annotations

from rimmodel.config.loading import apply_override
from rimmodel.config.spec import ConfigError


def apply_file_overrides(raw: dict, overrides: list[str] | tuple[str, ...], own_table: str,
                         replaced: dict[str, str] | None = None) -> None:
    """``replaced``: model keys the file's own settings overwrite (trial: time.end by trial.years)."""
    for item in overrides:
        dotted = item.split("=", 1)[0].strip()
        section = dotted.split(".", 1)[0]
        if replaced and dotted in replaced:
            raise ConfigError(f"--set {item!r}: {dotted} is set by {replaced[dotted]}; --set {replaced[dotted]}=... "
                              f"instead")
        if section == own_table:
            apply_override(raw, item)
        elif section in ("model", "parameters", "cohort"):
            raise ConfigError(f"--set {item!r}: give {own_table}.KEY=VALUE for the {own_table} settings or "
                              f"SECTION.KEY=VALUE (no 'model.' prefix) for the model config; "
                              f"edit the file for [{section}] entries")
        else:
            apply_override(raw.setdefault("model", {}), item)


def overrides_comment(overrides: list[str] | tuple[str, ...]) -> str:
    """Lines appended to the file's text where it is kept for provenance."""
    return "".join(f"\n# --set {item}" for item in overrides)
