"""Every file the workflow writes goes through `atomic_path`: written under a temporary name in
the same directory and renamed into place only when complete.

So a killed job never leaves a half file under the final name, a failed write never leaves its
temporary file behind, and a full disk is reported as such, naming the file, whatever library
was writing (torch reports it as "unexpected pos", h5py as a generic OSError).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
from pathlib import Path
from typing import Iterator

_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}
_NEARLY_FULL_BYTES = 1 << 20


class DiskFullError(OSError):
    """No space left (or a read-only file system) where the workflow writes."""


def _human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def _disk_problem(err: BaseException, path: Path) -> DiskFullError | None:
    """DiskFullError naming path when err was caused by the disk, else None."""
    code = getattr(err, "errno", None)
    if code == errno.EROFS:
        return DiskFullError(f"read-only file system writing {path}")
    try:
        free = shutil.disk_usage(next(p for p in path.parents if p.exists())).free
    except (OSError, StopIteration):
        free = None
    if code in _DISK_ERRNOS or "No space left" in str(err) or (
            free is not None and free < _NEARLY_FULL_BYTES):
        left = f" ({_human(free)} free)" if free is not None else ""
        return DiskFullError(f"no space left on device writing {path}{left}")
    return None


def temporary_name(path: Path) -> Path:
    """Where `path` is written before it is complete: a hidden name in the same directory."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def is_temporary(path: Path) -> bool:
    return path.name.startswith(".") and ".tmp-" in path.name


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write `path` to; on success it is renamed to `path`.

    On any failure the temporary file (or directory) is removed; a failure caused by a full or
    read-only disk becomes DiskFullError("no space left on device writing <path> (<free> free)").
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        problem = _disk_problem(err, path)
        if problem:
            raise problem from err
        raise
    tmp = temporary_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as err:
        # measure the disk before the temporary file gives its space back
        problem = _disk_problem(err, path) if isinstance(err, Exception) else None
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        if problem:
            raise problem from err
        raise


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | Path, data) -> None:
    write_text(path, json.dumps(data, indent=1, allow_nan=True) + "\n")


def read_json(path: str | Path):
    return json.loads(Path(path).read_text())
