"""Per-image arrays in HDF5: the hand-off format between stages.

A file holds one group per image id with the stage's named arrays inside, and root attributes
recording the stage that wrote it, the parameters that made it and its image count. A stage's
output may be split into shard files; a reader takes any number of them and finds each image in
its shard.

Writes go through mcof.files.atomic_path, so a killed job never leaves a half file under the
final name. Every array carries HDF5's Fletcher-32 checksum, verified on each read; the files use
HDF5's latest format, whose metadata (groups, array layouts, attribute names) is checksummed
too; and the root attributes, whose strings HDF5 keeps in a heap without a checksum, carry a
CRC-32 of their own. So a damaged file (truncated, any byte flipped) is an ArtifactError naming
the file, the stage and the fix before any later stage uses what it holds.
"""

from __future__ import annotations

import contextlib
import json
import os
import zlib
from pathlib import Path
from typing import Iterable, Iterator

import h5py
import numpy as np

from mcof.files import atomic_path

_COMPRESS_ABOVE_BYTES = 4096
_DAMAGE = (OSError, KeyError, RuntimeError, ValueError, TypeError)
"""What h5py raises on a damaged file, depending on where the damage lies."""
_FIX = "delete it and rerun: Snakemake will rebuild it"


class ArtifactError(ValueError):
    """An artifact file is missing, damaged, from the wrong stage, or lacks an image."""


def damaged(path: str | Path, stage: str, err: BaseException) -> ArtifactError:
    reason = (str(err).splitlines() or [type(err).__name__])[0].strip("'\"")
    if "filter returned failure" in reason:  # Fletcher-32 or decompression
        reason = f"its data fail their checksum: {reason}"
    return ArtifactError(
        f"artifact {path} (stage {stage!r}) is damaged ({reason}); {_FIX}")


@contextlib.contextmanager
def _checked(path: str | Path, stage: str) -> Iterator[None]:
    """Any error h5py raises inside is the file's damage, reported as such."""
    try:
        yield
    except ArtifactError:
        raise
    except _DAMAGE as err:
        raise damaged(path, stage, err) from err


def _attributes_crc(stage: str, params: str, n_images: int) -> int:
    return zlib.crc32(json.dumps([stage, params, int(n_images)]).encode())


class ArtifactWriter:
    """Context manager writing one artifact file atomically.

    with ArtifactWriter(path, stage="seeds", params={...}) as out:
        out.write(image_id, labels=labels)
    """

    def __init__(self, path: str | Path, stage: str, params: dict | None = None):
        self.path = Path(path)
        self.stage = stage
        self.params = params or {}
        self._file: h5py.File | None = None
        self._count = 0
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> ArtifactWriter:
        with contextlib.ExitStack() as stack:
            tmp = stack.enter_context(atomic_path(self.path))
            self._file = stack.enter_context(h5py.File(tmp, "w", locking=False, libver="latest"))
            self._file.attrs["stage"] = self.stage
            self._file.attrs["params"] = json.dumps(self.params, sort_keys=True, default=str)
            self._stack = stack.pop_all()
        return self

    def write(self, image_id: str, **arrays: np.ndarray) -> None:
        if "/" in image_id or not image_id:
            raise ArtifactError(f"invalid image id {image_id!r} for {self.path}")
        group = self._file.create_group(image_id)
        for name, value in arrays.items():
            value = np.asarray(value)
            if value.ndim == 0 or value.size == 0:
                group.create_dataset(name, data=value)
                continue
            compress = "lzf" if value.nbytes > _COMPRESS_ABOVE_BYTES else None
            group.create_dataset(name, data=value, compression=compress, fletcher32=True,
                                 chunks=value.shape)
        self._count += 1

    def __exit__(self, exc_type, exc, tb) -> bool | None:
        if exc_type is None:
            self._file.attrs["n_images"] = self._count
            self._file.attrs["crc32"] = _attributes_crc(
                self.stage, self._file.attrs["params"], self._count)
        # closes the HDF5 file, then renames it into place (or removes it on an error)
        return self._stack.__exit__(exc_type, exc, tb)


class ArtifactReader:
    """Reads the arrays of one stage from one or more shard files.

    Raises ArtifactError naming the file when a file is missing, damaged or was written by
    another stage, and naming the image when no file holds it.
    """

    def __init__(self, paths: str | Path | Iterable[str | Path], stage: str):
        if isinstance(paths, (str, Path)):
            paths = [paths]
        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise ArtifactError(f"no files given for stage {stage!r}")
        self.stage = stage
        self._files: list[h5py.File] = []
        self._where: dict[str, h5py.File] = {}
        try:
            for path in self.paths:
                self._open(path)
        except BaseException:
            self.close()
            raise

    def _open(self, path: Path) -> None:
        if not path.is_file():
            raise ArtifactError(f"artifact file not found: {path} (stage {self.stage!r})")
        with _checked(path, self.stage):
            handle = h5py.File(path, "r", locking=False)
            self._files.append(handle)
            attrs = handle.attrs
            found, expected = attrs["stage"], int(attrs["n_images"])
            crc = _attributes_crc(found, attrs["params"], expected)
            if "crc32" in attrs and attrs["crc32"] != crc:  # files from before it had none
                raise damaged(path, self.stage, ValueError("attributes do not match their CRC-32"))
            if found != self.stage:
                raise ArtifactError(f"{path} was written by stage {found!r}, but stage "
                                    f"{self.stage!r} was expected; {_FIX}")
            ids = list(handle)
        if len(ids) != expected:
            raise damaged(path, self.stage, ValueError(f"{len(ids)} images, {expected} written"))
        for image_id in ids:
            self._where[image_id] = handle

    @property
    def ids(self) -> list[str]:
        return list(self._where)

    @property
    def params(self) -> dict:
        """Parameters recorded by the writer of the first file."""
        with _checked(self.paths[0], self.stage):
            return json.loads(self._files[0].attrs["params"])

    def __contains__(self, image_id: str) -> bool:
        return image_id in self._where

    def _group(self, image_id: str) -> h5py.Group:
        try:
            handle = self._where[image_id]
        except KeyError:
            names = ", ".join(str(p) for p in self.paths)
            raise ArtifactError(
                f"image {image_id} is missing from the {self.stage!r} artifacts ({names})"
            ) from None
        with _checked(handle.filename, self.stage):
            return handle[image_id]

    def read(self, image_id: str, name: str) -> np.ndarray:
        group = self._group(image_id)
        with _checked(group.file.filename, self.stage):
            if name not in group:
                raise ArtifactError(
                    f"image {image_id} in {group.file.filename} has no array {name!r} "
                    f"(has: {', '.join(group)})")
            return group[name][()]  # checks the array's Fletcher-32 sum

    def read_all(self, image_id: str) -> dict[str, np.ndarray]:
        group = self._group(image_id)
        with _checked(group.file.filename, self.stage):
            names = list(group)
        return {name: self.read(image_id, name) for name in names}

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def close(self) -> None:
        for handle in self._files:
            handle.close()
        self._files = []

    def __enter__(self) -> ArtifactReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


KEPT_BYTES = 256 * 2**20
"""How much of its reads a training's LazyReaders keeps in memory, per process: a training reads
every image's arrays again each epoch, and an HDF5 read with its checksum costs more than the
rest of a small sample's loading. VOC's superpixels alone are larger than this; what does not
fit is read each time."""


class LazyReaders:
    """Artifact readers opened on first use in the process that reads.

    A training's data-loading workers are forked from the main process, and an open HDF5 handle
    cannot cross a fork: each process opens its own. readers = LazyReaders(seeds=(paths, "seeds"));
    readers.seeds.read(...). Reads are kept in memory up to keep_bytes (KEPT_BYTES; 0 keeps
    none); every array read through kept readers is read-only, as a kept one is handed out
    again.
    """

    def __init__(self, keep_bytes: int = KEPT_BYTES, **sources: tuple[list[str], str]):
        self._sources = {name: (list(paths), stage) for name, (paths, stage) in sources.items()}
        self._open: dict[str, ArtifactReader] = {}
        self._pid: int | None = None
        self._keep_bytes = keep_bytes
        self._kept: dict[tuple[str, str, str], np.ndarray] = {}
        self._kept_total = 0

    def __getattr__(self, name: str) -> ArtifactReader | _KeptReads:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._pid != os.getpid():
            self._open, self._pid = {}, os.getpid()
        if name not in self._open:
            paths, stage = self._sources[name]
            self._open[name] = ArtifactReader(paths, stage)
        if self._keep_bytes:
            return _KeptReads(self, name, self._open[name])
        return self._open[name]

    def _read_kept(self, source: str, reader: ArtifactReader, image_id: str, name: str) -> np.ndarray:
        key = (source, image_id, name)
        array = self._kept.get(key)
        if array is None:
            array = reader.read(image_id, name)
            array.flags.writeable = False
            if self._kept_total + array.nbytes <= self._keep_bytes:
                self._kept[key] = array
                self._kept_total += array.nbytes
        return array

    def __getstate__(self) -> dict:
        return {"_sources": self._sources, "_open": {}, "_pid": None,
                "_keep_bytes": self._keep_bytes, "_kept": {}, "_kept_total": 0}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)


class _KeptReads:
    """One source of a LazyReaders that keeps its reads (ArtifactReader's read, kept)."""

    def __init__(self, owner: LazyReaders, source: str, reader: ArtifactReader):
        self._owner, self._source, self._reader = owner, source, reader

    def read(self, image_id: str, name: str) -> np.ndarray:
        return self._owner._read_kept(self._source, self._reader, image_id, name)

    def __getattr__(self, attr: str):
        return getattr(self._reader, attr)
