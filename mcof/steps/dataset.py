"""Rules prepare_dataset (the embedded datasets), index_dataset (a split of a VOC tree or of a
folder with a label file) and index_coco (every split of a COCO-format dataset, with its masks)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from mcof.data.coco import COCO_CLASSES, CocoAnnotations, build_coco_index, write_coco_masks
from mcof.data.photos import PhotoSpec, photo_class_names, write_photo_voc
from mcof.data.synthetic import SyntheticSpec, class_names, write_synthetic_voc
from mcof.data.voc import VOC_CLASSES_DEFAULT, DatasetError, DatasetIndex, build_index
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
    """Class names, background first: the config's list, else the embedded set's, COCO's 81 or
    VOC's 21."""
    if classes:
        return list(classes)
    if source == "synthetic":
        return class_names(n_synthetic_classes)
    if source == "photos":
        return photo_class_names()
    if source == "coco":
        return list(COCO_CLASSES)
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


def index_coco(masks: str, *, root: str, splits: dict[str, dict], classes: list[str],
               check_images: bool = True, **indexes: str) -> None:
    """Index every split of a COCO-format dataset and rasterise its masks, in one job.

    splits[split]: {images: folder under root, annotations: instances file, list_path: ids to
    keep (None: all)}; indexes[split]: where that split's index goes. The training split's
    index carries the image labels (non-crowd annotations); masks/<id>.png holds the mask of
    every image of every split, for evaluation only. Nothing is written unless every split
    reads without error.
    """
    built: dict[str, DatasetIndex] = {}
    owner: dict[str, str] = {}
    with atomic_path(masks) as tmp:
        tmp.mkdir()
        for split, spec in splits.items():
            annotations = CocoAnnotations(spec["annotations"], classes)
            index = build_coco_index(root, split, classes, annotations, spec["images"],
                                     spec["list_path"], with_labels=split == "train",
                                     check_images=check_images)
            for image_id in index.ids:
                if owner.setdefault(image_id, split) != split:
                    raise DatasetError(f"annotation file {annotations.path}: image {image_id} is "
                                       f"in split {owner[image_id]} too")
            write_coco_masks(annotations, index.ids, tmp)
            built[split] = index
            log.info("%s: %d images, %d without labels (%s)", split, len(index.ids),
                     len(index.no_label_ids), annotations.path)
            del annotations
        for split, index in built.items():
            index.save(indexes[split])
        shutil.rmtree(masks, ignore_errors=True)
