"""MS COCO 2014 (or any dataset in COCO's format) from its instances_*.json, read with pycocotools.

An image's id is its file name without extension (COCO_train2014_000000000009), so ids are unique
across splits and name the PNG its mask is written to. Image-level labels are the classes of its
non-crowd annotations; its evaluation mask paints every non-crowd annotation with its class (the
larger first, so a smaller object lying on a larger one stays visible), then every crowd region
with 255, which evaluation ignores. COCO numbers its 80 categories 1..90 with gaps; they are
mapped by name onto the dataset's classes, which for COCO are background + the 80 in COCO's
order (category 1 person -> 1, ..., 90 toothbrush -> 80).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings
from pathlib import Path

import numpy as np

from mcof import IGNORE
from mcof.data.palette import save_palette_png
from mcof.data.voc import DatasetError, DatasetIndex, load_image, read_id_list

log = logging.getLogger(__name__)

COCO_CATEGORIES = (
    (1, "person"), (2, "bicycle"), (3, "car"), (4, "motorcycle"), (5, "airplane"), (6, "bus"),
    (7, "train"), (8, "truck"), (9, "boat"), (10, "traffic light"), (11, "fire hydrant"),
    (13, "stop sign"), (14, "parking meter"), (15, "bench"), (16, "bird"), (17, "cat"),
    (18, "dog"), (19, "horse"), (20, "sheep"), (21, "cow"), (22, "elephant"), (23, "bear"),
    (24, "zebra"), (25, "giraffe"), (27, "backpack"), (28, "umbrella"), (31, "handbag"),
    (32, "tie"), (33, "suitcase"), (34, "frisbee"), (35, "skis"), (36, "snowboard"),
    (37, "sports ball"), (38, "kite"), (39, "baseball bat"), (40, "baseball glove"),
    (41, "skateboard"), (42, "surfboard"), (43, "tennis racket"), (44, "bottle"),
    (46, "wine glass"), (47, "cup"), (48, "fork"), (49, "knife"), (50, "spoon"), (51, "bowl"),
    (52, "banana"), (53, "apple"), (54, "sandwich"), (55, "orange"), (56, "broccoli"),
    (57, "carrot"), (58, "hot dog"), (59, "pizza"), (60, "donut"), (61, "cake"), (62, "chair"),
    (63, "couch"), (64, "potted plant"), (65, "bed"), (67, "dining table"), (70, "toilet"),
    (72, "tv"), (73, "laptop"), (74, "mouse"), (75, "remote"), (76, "keyboard"),
    (77, "cell phone"), (78, "microwave"), (79, "oven"), (80, "toaster"), (81, "sink"),
    (82, "refrigerator"), (84, "book"), (85, "clock"), (86, "vase"), (87, "scissors"),
    (88, "teddy bear"), (89, "hair drier"), (90, "toothbrush"),
)
"""COCO 2014's 80 categories: (id in COCO's 1..90, name), in COCO's order."""

COCO_CLASSES = ("background", *(name for _, name in COCO_CATEGORIES))


def rasterize(segmentation, height: int, width: int) -> np.ndarray:
    """bool [H, W] of a COCO segmentation: a list of polygons (merged), an uncompressed RLE
    (counts a list) or a compressed one (counts a string), as pycocotools' annToRLE reads them."""
    from pycocotools import mask as mask_utils

    if isinstance(segmentation, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation.get("counts"), list):
        rle = mask_utils.frPyObjects(segmentation, height, width)
    else:
        rle = dict(segmentation)
        if isinstance(rle["counts"], str):
            rle["counts"] = rle["counts"].encode("ascii")
    with warnings.catch_warnings():  # pycocotools' Cython arrays predate numpy 2's copy keyword
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        return mask_utils.decode(rle).astype(bool)


def paint_mask(objects: list[tuple[int, np.ndarray]], crowds: list[np.ndarray], height: int,
               width: int) -> np.ndarray:
    """uint8 [H, W]: objects (class id, bool [H, W]) painted larger first, then crowds as 255."""
    mask = np.zeros((height, width), np.uint8)
    for class_id, region in sorted(objects, key=lambda o: -int(o[1].sum())):
        mask[region] = class_id
    for region in crowds:
        mask[region] = IGNORE
    return mask


class CocoAnnotations:
    """One instances_*.json: its images by id (file name without extension), their labels and
    masks. classes: the dataset's class names, background first; every category of the file
    must be one of them."""

    def __init__(self, path: str | Path, classes: list[str]):
        from pycocotools.coco import COCO

        self.path = Path(path)
        data = _read_json(self.path)
        for key in ("images", "annotations", "categories"):
            if not isinstance(data.get(key), list):
                raise DatasetError(f"annotation file {self.path}: no '{key}' list; expected COCO's "
                                   "instances format")
        self.coco = COCO()
        self.coco.dataset = data
        chatter = io.StringIO()
        with contextlib.redirect_stdout(chatter):
            self.coco.createIndex()
        self.class_of = {}
        for category in data["categories"]:
            if category["name"] not in classes[1:]:
                raise DatasetError(
                    f"annotation file {self.path}: category {category['id']} "
                    f"({category['name']}) is not one of the dataset's classes")
            self.class_of[category["id"]] = classes.index(category["name"])
        self._images: dict[str, dict] = {}
        for image in sorted(data["images"], key=lambda i: i["id"]):
            image_id = Path(image["file_name"]).stem
            if image_id in self._images:
                raise DatasetError(f"annotation file {self.path}: image {image_id} "
                                   f"(id {image['id']}) is listed twice")
            self._images[image_id] = image
        for ann in data["annotations"]:
            if ann["category_id"] not in self.class_of:
                raise DatasetError(
                    f"annotation file {self.path}: annotation {ann['id']} of image id "
                    f"{ann['image_id']}: category {ann['category_id']} is not in its categories")

    @property
    def ids(self) -> list[str]:
        """Every image of the file, in COCO id order."""
        return list(self._images)

    def image(self, image_id: str) -> dict:
        """COCO's record of an image (file_name, height, width, id)."""
        try:
            return self._images[image_id]
        except KeyError:
            raise DatasetError(f"annotation file {self.path}: no image {image_id}") from None

    def _annotations(self, image_id: str) -> list[dict]:
        return self.coco.imgToAnns.get(self.image(image_id)["id"], [])

    def labels(self, image_id: str) -> list[int]:
        """Class ids (1..K) of the image's non-crowd annotations, ascending."""
        return sorted({self.class_of[a["category_id"]] for a in self._annotations(image_id)
                       if not a.get("iscrowd", 0)})

    def mask(self, image_id: str) -> np.ndarray:
        """uint8 [H, W] class ids, crowd regions 255 (see paint_mask)."""
        image = self.image(image_id)
        height, width = image["height"], image["width"]
        objects, crowds = [], []
        for ann in self._annotations(image_id):
            try:
                region = rasterize(ann["segmentation"], height, width)
            except (KeyError, TypeError, ValueError) as err:
                raise DatasetError(f"annotation file {self.path}: annotation {ann.get('id')} of "
                                   f"image {image_id}: unreadable segmentation: {err}") from err
            if ann.get("iscrowd", 0):
                crowds.append(region)
            else:
                objects.append((self.class_of[ann["category_id"]], region))
        return paint_mask(objects, crowds, height, width)


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise DatasetError(f"annotation file not found: {path}")
    try:
        with path.open() as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DatasetError(f"annotation file {path}: not valid JSON: {err}") from err
    if not isinstance(data, dict):
        raise DatasetError(f"annotation file {path}: expected a JSON object (COCO's instances "
                           "format)")
    return data


def build_coco_index(root: str | Path, split: str, classes: list[str],
                     annotations: CocoAnnotations, image_dir: str, list_path: str | Path | None,
                     *, with_labels: bool, check_images: bool = True) -> DatasetIndex:
    """Index one split: the images of the annotation file (or of list_path among them), their
    files under root/image_dir, and (with_labels: the training split) their image labels.

    check_images decodes every image once and checks its size against the annotations (its
    mask is drawn at that size); else only that the file exists.
    """
    root = Path(root)
    ids = annotations.ids
    if list_path is not None:
        list_path = Path(list_path) if Path(list_path).is_absolute() else root / list_path
        ids = read_id_list(list_path)
        known = set(annotations.ids)
        for image_id in ids:
            if image_id not in known:
                raise DatasetError(f"image list {list_path}: image {image_id} is not in annotation "
                                   f"file {annotations.path}")
    if not ids:
        raise DatasetError(f"annotation file {annotations.path} lists no images")
    index = DatasetIndex(str(root.resolve()), split, list(classes), list(ids), {}, {})
    for image_id in ids:
        record = annotations.image(image_id)
        relative = str(Path(image_dir) / record["file_name"])
        path = root / relative
        if not path.is_file():
            raise DatasetError(f"image {image_id} of annotation file {annotations.path}: "
                               f"file not found: {path}")
        if check_images:
            size = load_image(path, image_id).shape[:2]
            if size != (record["height"], record["width"]):
                raise DatasetError(
                    f"image {image_id}: {path} is {size[1]}x{size[0]} but annotation file "
                    f"{annotations.path} gives {record['width']}x{record['height']}")
        index.images[image_id] = relative
        if with_labels:
            index.labels[image_id] = annotations.labels(image_id)
            if not index.labels[image_id]:
                index.no_label_ids.append(image_id)
    if index.no_label_ids:
        log.warning("%s: %d image(s) have no non-crowd annotation and are skipped in training: %s",
                    split, len(index.no_label_ids), ", ".join(index.no_label_ids[:10]))
    return index


def write_coco_masks(annotations: CocoAnnotations, ids: list[str], out_dir: str | Path) -> None:
    """out_dir/<id>.png: each image's mask in the VOC palette, read back by GroundTruth."""
    for image_id in ids:
        save_palette_png(annotations.mask(image_id), Path(out_dir) / f"{image_id}.png")

