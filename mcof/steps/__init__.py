"""File-level entry points: one function per workflow rule, looping over images via artifacts.

Each takes plain paths and values named as the rule names its inputs and params (never a
Snakemake object or a global config), so a test calls it directly and a workflow script only
passes `**snakemake.input, **snakemake.params` through.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence


def optional_path(paths: str | Path | Sequence[str] | None) -> str | None:
    """An input a rule declares only when a switch is on: '' / [] / None -> None, [p] -> p."""
    if paths is None or isinstance(paths, (str, Path)):
        return str(paths) if paths else None
    if len(paths) > 1:
        raise ValueError(f"expected at most one file, got {list(paths)}")
    return str(paths[0]) if len(paths) else None
