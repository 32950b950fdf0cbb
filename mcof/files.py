"""Every file the workflow writes goes through `atomic_path`: written under a temporary name in
the same directory and renamed into place only when complete.

So a killed job never leaves a half file under the final name, a failed write never leaves its
temporary file behind, and a full disk is reported as such, naming the file, whatever library
was writing (torch reports it as "unexpected pos", h5py as a generic OSError).

A process killed outright (SIGKILL, out of memory, power loss) cannot remove its own temporary
file. The next write into the same directory does: a temporary file of the same final name is
always stale (Snakemake runs one job per output at a time), and any other one is stale when the
process that wrote it, on this host, is gone.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import socket
from pathlib import Path
from typing import Iterator

_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}
_NEARLY_FULL_BYTES = 1 << 20
_HOST = re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname().split(".")[0]) or "host"
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<host>[A-Za-z0-9_.]+)-(?P<pid>[0-9]+)$")


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
    """Where `path` is written before it is complete: a hidden name in the same directory that
    says which process on which host writes it."""
    return path.with_name(f".{path.name}.tmp-{_HOST}-{os.getpid()}")


def is_temporary(path: Path) -> bool:
    return _TEMPORARY.match(path.name) is not None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:  # another writer removed it first
        pass


def remove_stale_temporaries(directory: str | Path, *, name: str | None = None,
                             everything: bool = False) -> list[Path]:
    """Remove the temporary files (and directories) that writers killed outright left in
    directory; returns what was removed.

    A temporary file of the final name `name` is always stale; any other one when its process,
    on this host, is gone (another host's cannot be checked). everything: the caller owns the
    directory and nothing else writes there (a training's checkpoints), so all are stale.
    """
    removed = []
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return removed
    for entry in entries:
        found = _TEMPORARY.match(entry.name)
        if found is None:
            continue
        host, pid = found["host"], int(found["pid"])
        if host == _HOST and pid == os.getpid():
            continue  # this process's own write in progress
        if everything or found["name"] == name or (host == _HOST and not _alive(pid)):
            _remove(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write `path` to; on success it is renamed to `path`.

    On any failure the temporary file (or directory) is removed; a failure caused by a full or
    read-only disk becomes DiskFullError("no space left on device writing <path> (<free> free)").
    Stale temporary files of killed writers in the same directory are removed first.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        problem = _disk_problem(err, path)
        if problem:
            raise problem from err
        raise
    remove_stale_temporaries(path.parent, name=path.name)
    tmp = temporary_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as err:
        # measure the disk before the temporary file gives its space back
        problem = _disk_problem(err, path) if isinstance(err, Exception) else None
        with contextlib.suppress(OSError):  # a read-only disk refuses even that
            _remove(tmp)
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
