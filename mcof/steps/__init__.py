"""File-level entry points: one function per workflow rule, looping over images via artifacts.

Each takes plain paths and values (never a Snakemake object or a global config), so a test can
call it directly and a workflow script only translates.
"""

from __future__ import annotations

import os
from pathlib import Path


def file_identity(*paths: str | Path) -> list[tuple[str, int, int]]:
    """(name, size, mtime) of input files: a resumed training must see the same inputs."""
    out = []
    for path in paths:
        st = os.stat(path)
        out.append((Path(path).name, st.st_size, st.st_mtime_ns))
    return out
