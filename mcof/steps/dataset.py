"""Rules prepare_dataset (the embedded datasets) and index_dataset (any dataset's split)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from mcof.data.photos import PhotoSpec, photo_class_names, write_photo_voc
from mcof.data.synthetic import SyntheticSpec, class_names, write_synthetic_voc
from mcof.data.voc import VOC_CLASSES_DEFAULT, build_index
from mcof.files import atomic_path

log = logging.getLogger(__name__)

EMBEDDED = ("synthetic", "photos")
"""Datasets the workflow writes itself (VOC layout), with train, val and test splits."""


def prepare_embedded(out: str, *, source: str, spec: dict) -> None:
    """Write an embedded dataset in VOC 2012 layout into out (replacing it)."""
    target = Path(out)
    with atomic_path(target) as tmp:
        if source == "synthetic":
            splits = write_synthetic_voc(tmp, SyntheticSpec(**spec))
        elif source == "photos":
            splits = write_photo_voc(tmp, PhotoSpec(**spec))
        else:
            raise ValueError(f"{source!r} is not an embedded dataset ({', '.join(EMBEDDED)})")
        shutil.rmtree(target, ignore_errors=True)
    log.info("%s dataset: %s in %s", source,
             ", ".join(f"{len(ids)} {split}" for split, ids in splits.items()), target)


def dataset_classes(source: str, n_synthetic_classes: int, classes: list[str] | None) -> list[str]:
    """Class names, background first: the config's list, else the embedded set's or VOC's 21."""
    if classes:
        return list(classes)
    if source == "synthetic":
        return class_names(n_synthetic_classes)
    if source == "photos":
        return photo_class_names()
    return list(VOC_CLASSES_DEFAULT)


def index_dataset(out: str, *, root: str, split: str, list_path: str | None, image_dir: str,
                  mask_dir: str | None, labels_from: str | None, label_file: str | None,
                  classes: list[str], check_images: bool = True) -> None:
    """Index one split (ids, image files, image labels) after checking its files.

    labels_from: 'masks' | 'file' for the training split, None for val and test (no mask read).
    """
    index = build_index(root, split, classes, list_path, image_dir=image_dir, mask_dir=mask_dir,
                        labels_from=labels_from, label_file=label_file, check_images=check_images)
    index.save(out)
    log.info("%s: %d images, %d without labels", split, len(index.ids), len(index.no_label_ids))
