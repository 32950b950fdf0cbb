"""Reader of a PASCAL VOC 2012 tree (optionally with SBD's SegmentationClassAug and train_aug list).

The synthetic dataset is written in the same layout and read by the same code. Image-level labels
are derived from the segmentation masks, as WSSS work on VOC does: every class id present in the
mask other than background (0) and the ignore label (255).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from mcof import IGNORE
from mcof.data.palette import VOC_CLASSES as VOC_CLASSES_DEFAULT  # noqa: F401 (re-export)

log = logging.getLogger(__name__)


class DatasetError(ValueError):
    """Bad input data: the message names the file and the image id."""


@dataclass
class DatasetIndex:
    """What every stage needs to know about one split, written once by `index_dataset`.

    labels[id] lists the foreground class ids (1..K) present in the image.
    """

    root: str
    split: str
    mask_dir: str
    classes: list[str]
    ids: list[str]
    labels: dict[str, list[int]]
    no_label_ids: list[str] = field(default_factory=list)

    @property
    def n_classes(self) -> int:
        """Number of classes including background."""
        return len(self.classes)

    def image_path(self, image_id: str) -> Path:
        return Path(self.root) / "JPEGImages" / f"{image_id}.jpg"

    def mask_path(self, image_id: str) -> Path:
        return Path(self.root) / self.mask_dir / f"{image_id}.png"

    def load_image(self, image_id: str) -> np.ndarray:
        return load_image(self.image_path(image_id), image_id)

    def load_mask(self, image_id: str) -> np.ndarray:
        return load_mask(self.mask_path(image_id), image_id, self.n_classes)

    def label_vector(self, image_id: str) -> np.ndarray:
        """float32 [K] multi-hot over the foreground classes (class c at index c - 1)."""
        vec = np.zeros(self.n_classes - 1, dtype=np.float32)
        vec[[c - 1 for c in self.labels[image_id]]] = 1.0
        return vec

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> DatasetIndex:
        return cls(**json.loads(Path(path).read_text()))


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


def build_index(root: str | Path, split: str, classes: list[str], list_path: str | Path,
                mask_dir: str = "SegmentationClass", check_images: bool = True) -> DatasetIndex:
    """Index one split: read its id list and every mask, derive image labels, validate the files.

    check_images decodes every image once, so that a corrupt JPEG fails here, naming the file,
    rather than hours later inside training.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"dataset root not found: {root}")
    list_path = Path(list_path)
    if not list_path.is_absolute():
        list_path = root / list_path
    ids = read_id_list(list_path)
    if len(set(ids)) != len(ids):
        raise DatasetError(f"image list {list_path} repeats image ids")
    index = DatasetIndex(str(root.resolve()), split, mask_dir, list(classes), ids, {})
    for image_id in ids:
        mask = index.load_mask(image_id)
        image_path = index.image_path(image_id)
        if check_images:
            size = index.load_image(image_id).shape[:2]
        else:
            if not image_path.is_file():
                raise DatasetError(f"image {image_id}: file not found: {image_path}")
            with Image.open(image_path) as img:
                size = img.size[::-1]
        if mask.shape != tuple(size):
            raise DatasetError(
                f"mask of image {image_id}: {index.mask_path(image_id)} is {mask.shape[1]}x"
                f"{mask.shape[0]} but the image is {size[1]}x{size[0]}")
        index.labels[image_id] = labels_from_mask(mask)
        if not index.labels[image_id]:
            index.no_label_ids.append(image_id)
    if index.no_label_ids:
        log.warning("%s: %d image(s) have no foreground label and are skipped in training: %s",
                    split, len(index.no_label_ids), ", ".join(index.no_label_ids[:10]))
    return index
