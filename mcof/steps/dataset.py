"""Rules prepare_dataset (synthetic data) and index_dataset (any VOC-layout tree)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from mcof.data.synthetic import SyntheticSpec, class_names, write_synthetic_voc
from mcof.data.voc import VOC_CLASSES_DEFAULT, build_index

log = logging.getLogger(__name__)


def prepare_synthetic(out_dir: str, **spec) -> None:
    """Write the synthetic dataset in VOC 2012 layout into out_dir (replacing it)."""
    out = Path(out_dir)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    splits = write_synthetic_voc(tmp, SyntheticSpec(**spec))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    log.info("synthetic dataset: %d train, %d val images in %s", len(splits["train"]),
             len(splits["val"]), out)


def dataset_classes(source: str, n_synthetic_classes: int, classes: list[str] | None) -> list[str]:
    """Class names, background first: the config's list, else VOC's 21 or the synthetic ones."""
    if classes:
        return list(classes)
    return class_names(n_synthetic_classes) if source == "synthetic" else list(VOC_CLASSES_DEFAULT)


def index_dataset(root: str, split: str, list_path: str, mask_dir: str, classes: list[str],
                  out_path: str, check_images: bool = True) -> None:
    """Index one split (ids, image labels) after checking every mask and image."""
    index = build_index(root, split, classes, list_path, mask_dir, check_images)
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    index.save(out_path)
    log.info("%s: %d images, %d without labels", split, len(index.ids), len(index.no_label_ids))
