"""Per-image arrays in HDF5: the hand-off format between stages.

A file holds one group per image id with the stage's named arrays inside, and root attributes
recording the stage that wrote it and the parameters that made it. A stage's output may be split
into shard files; a reader takes any number of them and finds each image in its shard.

Writes go to a temporary file in the same directory that is renamed into place on success, so a
killed job never leaves a half file under the final name.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Iterator

import h5py
import numpy as np

_COMPRESS_ABOVE_BYTES = 4096


class ArtifactError(ValueError):
    """An artifact file is missing, from the wrong stage, or lacks an image."""


class ArtifactWriter:
    """Context manager writing one artifact file atomically.

    with ArtifactWriter(path, stage="seeds", params={...}) as out:
        out.write(image_id, labels=labels)
    """

    def __init__(self, path: str | Path, stage: str, params: dict | None = None):
        self.path = Path(path)
        self.stage = stage
        self.params = params or {}
        self._tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        self._file: h5py.File | None = None
        self._count = 0

    def __enter__(self) -> ArtifactWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = h5py.File(self._tmp, "w", locking=False)
        self._file.attrs["stage"] = self.stage
        self._file.attrs["params"] = json.dumps(self.params, sort_keys=True, default=str)
        return self

    def write(self, image_id: str, **arrays: np.ndarray) -> None:
        if "/" in image_id or not image_id:
            raise ArtifactError(f"invalid image id {image_id!r} for {self.path}")
        group = self._file.create_group(image_id)
        for name, value in arrays.items():
            value = np.asarray(value)
            compress = "lzf" if value.nbytes > _COMPRESS_ABOVE_BYTES and value.ndim else None
            group.create_dataset(name, data=value, compression=compress)
        self._count += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        self._file.attrs["n_images"] = self._count
        self._file.close()
        if exc_type is None:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)


class ArtifactReader:
    """Reads the arrays of one stage from one or more shard files.

    Raises ArtifactError naming the file when a file is missing or was written by another stage,
    and naming the image when no file holds it.
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
                if not path.is_file():
                    raise ArtifactError(f"artifact file not found: {path} (stage {stage!r})")
                handle = h5py.File(path, "r", locking=False)
                self._files.append(handle)
                found = handle.attrs.get("stage")
                if found != stage:
                    raise ArtifactError(
                        f"{path} was written by stage {found!r}, but stage {stage!r} was expected")
                for image_id in handle:
                    self._where[image_id] = handle
        except BaseException:
            self.close()
            raise

    @property
    def ids(self) -> list[str]:
        return list(self._where)

    @property
    def params(self) -> dict:
        """Parameters recorded by the writer of the first file."""
        return json.loads(self._files[0].attrs["params"])

    def __contains__(self, image_id: str) -> bool:
        return image_id in self._where

    def _group(self, image_id: str) -> h5py.Group:
        try:
            return self._where[image_id][image_id]
        except KeyError:
            names = ", ".join(str(p) for p in self.paths)
            raise ArtifactError(
                f"image {image_id} is missing from the {self.stage!r} artifacts ({names})"
            ) from None

    def read(self, image_id: str, name: str) -> np.ndarray:
        group = self._group(image_id)
        if name not in group:
            raise ArtifactError(
                f"image {image_id} in {group.file.filename} has no array {name!r} "
                f"(has: {', '.join(group)})")
        return group[name][()]

    def read_all(self, image_id: str) -> dict[str, np.ndarray]:
        return {name: data[()] for name, data in self._group(image_id).items()}

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
