"""Datasets as the stages see them: an index of images and image-level labels, and, apart from
it, the ground-truth masks that only evaluation reads.

A split is a list of image ids under a root: a PASCAL VOC 2012 tree (optionally with SBD's
SegmentationClassAug and train_aug list), the embedded datasets (written in the same layout), or
a folder of images with a label file. Image-level labels come from a label file (CSV or JSON,
image id -> class names) or, as WSSS work on VOC does, from the segmentation masks: every class
id present other than background (0) and the ignore label (255).

`DatasetIndex` has no way to read a mask: it is what every stage of a weak run gets. Evaluation
and the fully supervised upper bound get a `GroundTruth` as well.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from mcof import IGNORE
from mcof.data.palette import VOC_CLASSES as VOC_CLASSES_DEFAULT  # noqa: F401 (re-export)
from mcof.files import write_text

log = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


class DatasetError(ValueError):
    """Bad input data: the message names the file and the image id."""


@dataclass
class DatasetIndex:
    """What every stage needs to know about one split, written once by `index_dataset`.

    labels[id] lists the foreground class ids (1..K) present in the image; a split indexed
    without labels (val, test) has none. images[id] is the image file, relative to root.
    """

    root: str
    split: str
    classes: list[str]
    ids: list[str]
    labels: dict[str, list[int]]
    images: dict[str, str]
    no_label_ids: list[str] = field(default_factory=list)

    @property
    def n_classes(self) -> int:
        """Number of classes including background."""
        return len(self.classes)

    def image_path(self, image_id: str) -> Path:
        return Path(self.root) / self.images[image_id]

    def load_image(self, image_id: str) -> np.ndarray:
        return load_image(self.image_path(image_id), image_id)

    def label_vector(self, image_id: str) -> np.ndarray:
        """float32 [K] multi-hot over the foreground classes (class c at index c - 1)."""
        vec = np.zeros(self.n_classes - 1, dtype=np.float32)
        vec[[c - 1 for c in self.labels[image_id]]] = 1.0
        return vec

    def save(self, path: str | Path) -> None:
        write_text(path, json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> DatasetIndex:
        return cls(**json.loads(Path(path).read_text()))


@dataclass(frozen=True)
class GroundTruth:
    """The masks of a dataset (PNG class ids, 255 = ignore): for evaluation only."""

    mask_dir: str
    n_classes: int

    def path(self, image_id: str) -> Path:
        return Path(self.mask_dir) / f"{image_id}.png"

    def load(self, image_id: str) -> np.ndarray:
        return load_mask(self.path(image_id), image_id, self.n_classes)


def read_id_list(path: str | Path) -> list[str]:
    """Image ids of a VOC ImageSets list (first token of each non-empty line)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"image list not found: {path}")
    ids = [line.split()[0] for line in path.read_text().splitlines() if line.strip()]
    if not ids:
        raise DatasetError(f"image list {path} lists no images")
    return ids


def load_image(path: str | Path, image_id: str) -> np.ndarray:
    """uint8 [H, W, 3] RGB. A missing or undecodable file is a DatasetError naming it."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"image {image_id}: file not found: {path}")
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except (OSError, SyntaxError, ValueError) as err:
        raise DatasetError(f"image {image_id}: cannot decode {path}: {err}") from err


def load_mask(path: str | Path, image_id: str, n_classes: int) -> np.ndarray:
    """uint8 [H, W] class ids, 255 = ignore. Values outside 0..n_classes-1 and 255 are an error."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"mask of image {image_id}: file not found: {path}")
    try:
        with Image.open(path) as img:
            if img.mode not in ("P", "L"):
                raise DatasetError(
                    f"mask of image {image_id}: {path} has mode {img.mode}; expected a palette (P) "
                    "or greyscale (L) PNG of class ids")
            mask = np.asarray(img, dtype=np.uint8)
    except (OSError, SyntaxError) as err:
        raise DatasetError(f"mask of image {image_id}: cannot decode {path}: {err}") from err
    values = np.unique(mask)
    bad = values[(values >= n_classes) & (values != IGNORE)]
    if bad.size:
        raise DatasetError(
            f"mask of image {image_id}: {path} holds class ids {bad.tolist()} outside the dataset's "
            f"{n_classes} classes (0..{n_classes - 1}, 255 = ignore)")
    return mask


def labels_from_mask(mask: np.ndarray) -> list[int]:
    """Foreground class ids present in a mask (ignoring 0 and 255), ascending."""
    return [int(v) for v in np.unique(mask) if v not in (0, IGNORE)]


def _json_rows(path: Path, text: str) -> list[tuple[int, str, list[str]]]:
    def pairs(items):
        return items  # keep repeated keys: a dict would silently drop all but the last

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as err:
        raise DatasetError(f"label file {path}: not valid JSON: {err}") from err
    if not isinstance(data, list) or not all(isinstance(k, str) for k, _ in data):
        raise DatasetError(f"label file {path}: expected an object of image id -> class names")
    rows, position = [], 0
    for image_id, names in data:
        found = re.compile(rf'"{re.escape(image_id)}"\s*:').search(text, position)
        line = text.count("\n", 0, found.start()) + 1 if found else 0
        position = found.end() if found else position
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise DatasetError(f"label file {path}, line {line}: image {image_id}: expected a "
                               f"list of class names, got {names!r}")
        rows.append((line, image_id, names))
    return rows


def _split_names(cell: str, classes: list[str]) -> list[str]:
    """Class names of one CSV cell: separated by ';' or '|', or by spaces where a piece is not a
    class name as it stands (so 'person dog' and 'traffic light;person' both read)."""
    names = []
    for piece in cell.replace("|", ";").split(";"):
        piece = piece.strip()
        names += [piece] if piece in classes or not piece else piece.split()
    return [n for n in names if n]


def _csv_rows(text: str, classes: list[str]) -> list[tuple[int, str, list[str]]]:
    rows = []
    for n, cells in enumerate(csv.reader(text.splitlines()), 1):
        cells = [c.strip() for c in cells]
        if not cells or not any(cells) or cells[0].startswith("#"):
            continue
        if n == 1 and cells[0].lower() in ("image_id", "id", "image"):
            continue
        names = [name for cell in cells[1:] for name in _split_names(cell, classes)]
        rows.append((n, cells[0], names))
    return rows


@dataclass
class LabelFile:
    """Image-level labels read from a CSV (`id,class class ...` or one class per column) or
    JSON (`{"id": ["class", ...]}`) file; lines[id] is where each image is listed."""

    path: Path
    labels: dict[str, list[int]]
    lines: dict[str, int]

    def where(self, image_id: str) -> str:
        return f"label file {self.path}, line {self.lines[image_id]}: image {image_id}"


def read_label_file(path: str | Path, classes: list[str]) -> LabelFile:
    """Every problem is one line naming the file, the line and the id: an unknown class, a
    repeated id, an image without labels."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"label file not found: {path}")
    text = path.read_text()
    rows = (_json_rows(path, text) if path.suffix.lower() == ".json"
            else _csv_rows(text, classes))
    ids_of = {name: i for i, name in enumerate(classes)}
    out = LabelFile(path, {}, {})
    for line, image_id, names in rows:
        where = f"label file {path}, line {line}: image {image_id}"
        if image_id in out.labels:
            raise DatasetError(f"{where} is listed twice (first on line {out.lines[image_id]})")
        if not names:
            raise DatasetError(f"{where} has no class names; every image of a weakly labelled "
                               "dataset needs at least one")
        unknown = [n for n in names if ids_of.get(n, 0) == 0]
        if unknown:
            raise DatasetError(f"{where}: unknown class {', '.join(unknown)} (classes: "
                               f"{', '.join(classes[1:])})")
        out.labels[image_id] = sorted({ids_of[n] for n in names})
        out.lines[image_id] = line
    if not out.labels:
        raise DatasetError(f"label file {path} lists no images")
    return out


def find_image(root: Path, image_dir: str, image_id: str, where: str | None = None) -> str:
    """The image file of an id under root/image_dir (.jpg, .jpeg or .png), relative to root.

    where: how the error names the image (default 'image <id>'; a label file's line)."""
    for ext in IMAGE_EXTENSIONS:
        candidate = Path(image_dir) / f"{image_id}{ext}"
        if (root / candidate).is_file():
            return str(candidate)
    extensions = ",".join(ext[1:] for ext in IMAGE_EXTENSIONS)
    raise DatasetError(f"{where or f'image {image_id}'}: no image file "
                       f"{root / image_dir / image_id}.{{{extensions}}}")


def build_index(root: str | Path, split: str, classes: list[str], list_path: str | Path | None,
                *, image_dir: str = "JPEGImages", mask_dir: str | Path | None = None,
                labels_from: str | None = "masks", label_file: str | Path | None = None,
                check_images: bool = True) -> DatasetIndex:
    """Index one split: its ids, image files and (labels_from 'masks' or 'file') image labels.

    labels_from None (the val and test splits, read only by prediction and evaluation) reads no
    mask. list_path None takes every id of the label file. check_images decodes every image once,
    so that a corrupt JPEG fails here, naming the file, rather than hours later inside training.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"dataset root not found: {root}")
    from_file = read_label_file(label_file, classes) if labels_from == "file" else None
    if list_path is None:
        if from_file is None:
            raise DatasetError(f"split {split}: no image list and no label file to take ids from")
        ids = list(from_file.labels)
    else:
        list_path = Path(list_path)
        if not list_path.is_absolute():
            list_path = root / list_path
        ids = read_id_list(list_path)
        if len(set(ids)) != len(ids):
            raise DatasetError(f"image list {list_path} repeats image ids")
        if from_file is not None:
            missing = [i for i in ids if i not in from_file.labels]
            if missing:
                raise DatasetError(f"image {missing[0]} of {list_path} has no labels in "
                                   f"{from_file.path} ({len(missing)} such image(s))")
    masks = GroundTruth(str(root / mask_dir), len(classes)) if labels_from == "masks" else None
    index = DatasetIndex(str(root.resolve()), split, list(classes), ids, {}, {})
    for image_id in ids:
        where = from_file.where(image_id) if from_file is not None else None
        index.images[image_id] = find_image(root, image_dir, image_id, where)
        if check_images:
            size = index.load_image(image_id).shape[:2]
        else:
            with Image.open(index.image_path(image_id)) as img:
                size = img.size[::-1]
        if masks is not None:
            mask = masks.load(image_id)
            if mask.shape != tuple(size):
                raise DatasetError(
                    f"mask of image {image_id}: {masks.path(image_id)} is {mask.shape[1]}x"
                    f"{mask.shape[0]} but the image is {size[1]}x{size[0]}")
            index.labels[image_id] = labels_from_mask(mask)
        elif from_file is not None:
            index.labels[image_id] = from_file.labels[image_id]
        if labels_from and not index.labels[image_id]:
            index.no_label_ids.append(image_id)
    if index.no_label_ids:
        log.warning("%s: %d image(s) have no foreground label and are skipped in training: %s",
                    split, len(index.no_label_ids), ", ".join(index.no_label_ids[:10]))
    return index
