"""Atomic writes: a failed write leaves nothing, a killed writer's temporary file is removed by
the next write, and a full or read-only disk is one line naming the file."""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
import textwrap

import pytest

from mcof.files import (
    DiskFullError,
    atomic_path,
    is_temporary,
    remove_stale_temporaries,
    temporary_name,
    write_text,
)

FULL = re.compile(
    r"no space left on device writing (?P<path>\S+) \((?P<free>[0-9.]+ (B|KiB|MiB|GiB)) free\)")


def dead_pid() -> int:
    """The id of a process that has ended (and was reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def temporary_of(path, pid: int, host: str | None = None):
    """The temporary name under which process `pid` on `host` (this one by default) writes
    path."""
    if host is None:
        return path.with_name(f"{temporary_name(path).name.rsplit('-', 1)[0]}-{pid}")
    return path.with_name(f".{path.name}.tmp-{host}-{pid}")


def test_failed_write_removes_its_temporary_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "out.txt"
    write_text(target, "old\n")
    with pytest.raises(RuntimeError, match="crashed"):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crashed")
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    assert target.read_text() == "old\n"


def test_interrupted_write_removes_a_temporary_directory(tmp_path):
    target = tmp_path / "pngs"
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.mkdir()
            (tmp / "a.png").write_bytes(b"x")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_temporary_name_is_hidden_and_recognised(tmp_path):
    tmp = temporary_name(tmp_path / "epoch0001.pt")
    assert tmp.parent == tmp_path and tmp.name.startswith(".epoch0001.pt.tmp-")
    assert tmp.name.endswith(f"-{os.getpid()}") and is_temporary(tmp)
    assert not is_temporary(tmp_path / "epoch0001.pt") and not is_temporary(tmp_path / ".hidden")


def test_sigkilled_writer_leaves_a_temporary_that_the_next_write_removes(tmp_path):
    """A process killed outright cannot clean up; the next write into the directory does."""
    code = textwrap.dedent(f"""
        import os, signal
        from mcof.files import atomic_path
        with atomic_path({str(tmp_path / "model.pt")!r}) as tmp:
            tmp.write_bytes(b"half a checkpoint")
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-c", code], check=False, env=env)
    assert proc.returncode == -signal.SIGKILL
    left = [p for p in tmp_path.iterdir() if is_temporary(p)]
    assert len(left) == 1 and not (tmp_path / "model.pt").exists()
    write_text(tmp_path / "other.txt", "x")  # another file, same directory
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.txt"]


def test_which_temporaries_are_stale(tmp_path):
    """Same final name: always stale. Another name: stale when its process on this host is
    gone; a live process's, or another host's, is left alone."""
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = temporary_of(tmp_path / "a.h5", dead_pid())
        alive = temporary_of(tmp_path / "b.h5", live.pid)
        elsewhere = temporary_of(tmp_path / "c.h5", 1, host="node17")
        same_name_elsewhere = temporary_of(tmp_path / "d.h5", 1, host="node17")
        directory = temporary_of(tmp_path / "pngs", dead_pid())
        for path in (dead, alive, elsewhere, same_name_elsewhere):
            path.write_bytes(b"x")
        directory.mkdir()
        (directory / "x.png").write_bytes(b"x")
        mine = temporary_name(tmp_path / "e.h5")
        mine.write_bytes(b"x")  # this process's own write in progress
        removed = remove_stale_temporaries(tmp_path, name="d.h5")
        assert sorted(removed) == sorted([dead, same_name_elsewhere, directory])
        assert sorted(tmp_path.iterdir()) == sorted([alive, elsewhere, mine])
        everything = remove_stale_temporaries(tmp_path, everything=True)
        assert sorted(everything) == sorted([alive, elsewhere])
        assert list(tmp_path.iterdir()) == [mine]
    finally:
        live.kill()
        live.wait()


def test_enospc_becomes_one_line_naming_the_file(tmp_path):
    target = tmp_path / "results" / "iter1" / "seeds" / "shard0.h5"
    with pytest.raises(DiskFullError) as caught:
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"x" * 100)
            raise OSError(errno.ENOSPC, "No space left on device")
    message = str(caught.value)
    assert "\n" not in message
    assert FULL.fullmatch(message)["path"] == str(target)
    assert list(target.parent.iterdir()) == []


@pytest.mark.parametrize("code", [errno.EDQUOT, errno.ENOSPC])
def test_quota_and_space_errors_of_any_library_are_disk_full(tmp_path, code):
    with pytest.raises(DiskFullError, match=re.escape(str(tmp_path / "a.json"))):
        with atomic_path(tmp_path / "a.json"):
            raise OSError(code, os.strerror(code))


def test_other_errors_stay_what_they_are(tmp_path):
    with pytest.raises(ValueError, match="not a disk problem"):
        with atomic_path(tmp_path / "a.json"):
            raise ValueError("not a disk problem")


def test_real_full_disk(small_disk):
    target = small_disk / "metrics" / "big.json"
    with pytest.raises(DiskFullError) as caught:
        write_text(target, "x" * (1 << 20))
    found = FULL.fullmatch(str(caught.value))
    assert found and found["path"] == str(target), caught.value
    assert list(target.parent.iterdir()) == []  # the temporary file gave its space back
    write_text(target, "fits\n")  # and the disk is usable again
    assert target.read_text() == "fits\n"


def test_real_read_only_disk(small_disk):
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    target = small_disk / "a.txt"
    with pytest.raises(DiskFullError, match=f"^read-only file system writing {re.escape(str(target))}$"):
        write_text(target, "x")
