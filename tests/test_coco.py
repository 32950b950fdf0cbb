"""COCO from its instances files: labels and masks against a direct rasterisation of a tiny
fixture that the test writes (polygons drawn with PIL, RLE encoded by hand or by pycocotools)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from pycocotools import mask as mask_utils

from mcof.data.coco import COCO_CLASSES, CocoAnnotations, build_coco_index
from mcof.data.palette import voc_palette
from mcof.data.voc import DatasetError, DatasetIndex, GroundTruth
from mcof.steps.dataset import index_coco
from workflow_utils import planned_jobs, snakemake, tiny_config, write_config

W, H = 40, 32
# COCO ids -> our class ids, counted by hand in COCO's category list (ids 12, 26, 29, 30, 45,
# 66, 68, 69, 71 and 83 are unused): person 1 -> 1, dog 18 -> 17, bottle 44 -> 40,
# toothbrush 90 -> 80.
PERSON, DOG, BOTTLE, TOOTHBRUSH = 1, 17, 40, 80
CATEGORIES = [{"id": 1, "name": "person", "supercategory": "person"},
              {"id": 18, "name": "dog", "supercategory": "animal"},
              {"id": 44, "name": "bottle", "supercategory": "kitchen"},
              {"id": 90, "name": "toothbrush", "supercategory": "indoor"}]


def box_polygon(x0, y0, x1, y1):
    """COCO polygon of a box: pycocotools reads its corners as pixel edges, so it covers
    columns x0..x1-1 and rows y0..y1-1."""
    return [x0, y0, x1, y0, x1, y1, x0, y1]


def pil_box(x0, y0, x1, y1) -> np.ndarray:
    """The same box drawn with PIL, which reads vertices as pixel centres (both ends inside)."""
    img = Image.new("L", (W, H), 0)
    ImageDraw.Draw(img).polygon([(x0, y0), (x1 - 1, y0), (x1 - 1, y1 - 1), (x0, y1 - 1)], fill=1)
    return np.asarray(img).astype(bool)


def uncompressed_rle(region: np.ndarray) -> dict:
    """COCO's uncompressed RLE (crowd annotations): run lengths over the column-major pixels,
    starting with a run of zeros."""
    flat = region.flatten(order="F").astype(np.int8)
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat[0]:
        counts = [0, *counts]
    return {"size": [H, W], "counts": counts}


def compressed_rle(region: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(region.astype(np.uint8)))
    return {"size": rle["size"], "counts": rle["counts"].decode("ascii")}


def rect(x0, y0, x1, y1) -> np.ndarray:
    region = np.zeros((H, W), bool)
    region[y0:y1, x0:x1] = True
    return region


def paint(objects, crowds):
    """Objects (class, region) larger first, then crowds as 255: the reader's documented order."""
    mask = np.zeros((H, W), np.uint8)
    for class_id, region in sorted(objects, key=lambda o: -o[1].sum()):
        mask[region] = class_id
    for region in crowds:
        mask[region] = 255
    return mask


def write_coco_fixture(root: Path) -> dict[str, dict]:
    """train2014/ (3 images), val2014/ (1 image) and annotations/instances_*.json under root.

    Returns, per split, image id -> (labels, expected mask).
    """
    rng = np.random.default_rng(0)
    dog = np.zeros((H, W), bool)
    dog[10:22, 15:35] = True
    dog[12:16, 30:38] = True          # an irregular region, given as compressed RLE
    crowd_bottles = rect(28, 0, 40, 12)   # overlaps the dog: crowd wins, as 255
    images = {
        "train": [
            (1, [  # person in two polygon parts, a dog (RLE), a crowd of bottles
                dict(category_id=1, segmentation=[box_polygon(2, 3, 12, 25),
                                                  box_polygon(12, 20, 18, 30)], iscrowd=0),
                dict(category_id=18, segmentation=compressed_rle(dog), iscrowd=0),
                dict(category_id=44, segmentation=uncompressed_rle(crowd_bottles), iscrowd=1)]),
            (2, [  # a small toothbrush on a larger person: drawn on top
                dict(category_id=1, segmentation=[box_polygon(0, 0, 30, 30)], iscrowd=0),
                dict(category_id=90, segmentation=[box_polygon(5, 5, 9, 20)], iscrowd=0)]),
            (3, [  # only a crowd: no image label
                dict(category_id=1, segmentation=uncompressed_rle(rect(0, 16, 40, 32)),
                     iscrowd=1)]),
        ],
        "val": [
            (7, [dict(category_id=18, segmentation=[box_polygon(1, 1, 21, 11)], iscrowd=0),
                 dict(category_id=1, segmentation=uncompressed_rle(rect(20, 5, 30, 30)),
                      iscrowd=1)]),
        ],
    }
    expected = {
        "train": {
            "COCO_train2014_000000000001": (
                [PERSON, DOG], paint([(PERSON, pil_box(2, 3, 12, 25) | pil_box(12, 20, 18, 30)),
                                      (DOG, dog)], [crowd_bottles])),
            "COCO_train2014_000000000002": (
                [PERSON, TOOTHBRUSH], paint([(PERSON, pil_box(0, 0, 30, 30)),
                                             (TOOTHBRUSH, pil_box(5, 5, 9, 20))], [])),
            "COCO_train2014_000000000003": ([], paint([], [rect(0, 16, 40, 32)])),
        },
        "val": {
            "COCO_val2014_000000000007": (
                [], paint([(DOG, pil_box(1, 1, 21, 11))], [rect(20, 5, 30, 30)])),
        },
    }
    (root / "annotations").mkdir(parents=True)
    ann_id = 100
    for split, records in images.items():
        folder = root / f"{split}2014"
        folder.mkdir()
        data = {"info": {}, "licenses": [], "images": [], "annotations": [],
                "categories": CATEGORIES}
        for coco_id, anns in records:
            name = f"COCO_{split}2014_{coco_id:012d}.jpg"
            Image.fromarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8)).save(folder / name)
            data["images"].append({"id": coco_id, "file_name": name, "height": H, "width": W})
            for ann in anns:
                ann_id += 1
                data["annotations"].append({"id": ann_id, "image_id": coco_id, "area": 0.0,
                                            "bbox": [0, 0, 1, 1], **ann})
        (root / "annotations" / f"instances_{split}2014.json").write_text(json.dumps(data))
    return expected


@pytest.fixture
def coco(tmp_path):
    root = tmp_path / "coco"
    return root, write_coco_fixture(root)


def coco_splits(root, **changes):
    splits = {split: {"images": f"{split}2014",
                      "annotations": str(root / f"annotations/instances_{split}2014.json"),
                      "list_path": None} for split in ("train", "val")}
    for split, change in changes.items():
        splits[split].update(change)
    return splits


def test_coco_classes_are_the_80_in_order():
    assert len(COCO_CLASSES) == 81 and COCO_CLASSES[0] == "background"
    assert (COCO_CLASSES[PERSON], COCO_CLASSES[DOG], COCO_CLASSES[BOTTLE],
            COCO_CLASSES[TOOTHBRUSH]) == ("person", "dog", "bottle", "toothbrush")


def test_labels_and_masks_equal_a_direct_rasterisation(coco):
    root, expected = coco
    for split, images in expected.items():
        annotations = CocoAnnotations(root / f"annotations/instances_{split}2014.json",
                                      list(COCO_CLASSES))
        assert annotations.ids == list(images)
        for image_id, (labels, mask) in images.items():
            if split == "train":
                assert annotations.labels(image_id) == labels
            np.testing.assert_array_equal(annotations.mask(image_id), mask)


def test_index_job_writes_indexes_and_masks_that_ground_truth_reads(coco, tmp_path, caplog):
    root, expected = coco
    out = tmp_path / "out"
    with caplog.at_level(logging.WARNING, logger="mcof"):
        index_coco(str(out / "masks"), root=str(root), splits=coco_splits(root),
                   classes=list(COCO_CLASSES), train=str(out / "train.json"),
                   val=str(out / "val.json"))
    train, val = DatasetIndex.load(out / "train.json"), DatasetIndex.load(out / "val.json")
    assert train.ids == list(expected["train"]) and val.ids == list(expected["val"])
    assert train.labels == {i: labels for i, (labels, _) in expected["train"].items()}
    assert train.no_label_ids == ["COCO_train2014_000000000003"] and val.labels == {}
    assert "COCO_train2014_000000000003" in caplog.text
    assert train.image_path("COCO_train2014_000000000002").is_file()
    truth = GroundTruth(str(out / "masks"), len(COCO_CLASSES))
    for images in expected.values():
        for image_id, (_, mask) in images.items():
            np.testing.assert_array_equal(truth.load(image_id), mask)
    png = Image.open(out / "masks" / "COCO_train2014_000000000001.png")
    assert png.mode == "P" and png.getpalette()[:48] == voc_palette()[:16].flatten().tolist()
    assert 255 in np.asarray(png)


def test_a_list_keeps_some_ids(coco, tmp_path):
    root, _ = coco
    (root / "few.txt").write_text("COCO_train2014_000000000002\n")
    index = build_coco_index(root, "train", list(COCO_CLASSES),
                             CocoAnnotations(root / "annotations/instances_train2014.json",
                                             list(COCO_CLASSES)),
                             "train2014", "few.txt", with_labels=True)
    assert index.ids == ["COCO_train2014_000000000002"]
    assert index.labels == {"COCO_train2014_000000000002": [PERSON, TOOTHBRUSH]}


def edit_annotations(root, split, change):
    path = root / f"annotations/instances_{split}2014.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("change, message", [
    (lambda d: d["categories"].append({"id": 91, "name": "unicorn"}),
     r"category 91 \(unicorn\) is not one of the dataset's classes"),
    (lambda d: d["annotations"][0].update(category_id=5),
     r"annotation 101 of image id 1: category 5 is not in its categories"),
    (lambda d: d.pop("annotations"), r"no 'annotations' list"),
    (lambda d: d["annotations"][0].update(segmentation={"counts": 7}),
     r"annotation 101 of image COCO_train2014_000000000001: unreadable segmentation"),
])
def test_bad_annotation_file_is_one_line_and_writes_nothing(coco, tmp_path, change, message):
    root, _ = coco
    edit_annotations(root, "train", change)
    out = tmp_path / "out"
    with pytest.raises(DatasetError, match=message) as err:
        index_coco(str(out / "masks"), root=str(root), splits=coco_splits(root),
                   classes=list(COCO_CLASSES), train=str(out / "train.json"),
                   val=str(out / "val.json"))
    assert "instances_train2014.json" in str(err.value) and "\n" not in str(err.value)
    assert not out.exists() or not any(out.iterdir())


def test_missing_image_and_wrong_size_name_the_file(coco, tmp_path):
    root, _ = coco
    victim = root / "val2014" / "COCO_val2014_000000000007.jpg"
    Image.new("RGB", (W + 1, H)).save(victim)
    out = tmp_path / "out"
    args = dict(root=str(root), splits=coco_splits(root), classes=list(COCO_CLASSES),
                train=str(out / "train.json"), val=str(out / "val.json"))
    with pytest.raises(DatasetError, match=r"COCO_val2014_000000000007: .* is 41x32 but "
                                           r"annotation file .* gives 40x32"):
        index_coco(str(out / "masks"), **args)
    victim.unlink()
    with pytest.raises(DatasetError, match="image COCO_val2014_000000000007 of annotation file "
                                           ".*instances_val2014.json: file not found"):
        index_coco(str(out / "masks"), **args)
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.slow
def test_the_index_coco_job_through_snakemake(coco, tmp_path):
    """One job indexes both splits and writes the masks that evaluation reads; the default
    target plans the evaluation on them."""
    root, expected = coco
    config = tiny_config(comparisons={})
    config["dataset"].update(source="coco", root=str(root), train_list=None, val_list=None,
                             test_list=None)
    write_config(tmp_path / "run", config)
    lint = snakemake(tmp_path / "run", "--lint")
    assert "Congratulations" in lint.stdout + lint.stderr
    snakemake(tmp_path / "run", "--cores", "1", "results/dataset/val.json")
    results = tmp_path / "run" / "results"
    assert DatasetIndex.load(results / "dataset/train.json").labels == {
        i: labels for i, (labels, _) in expected["train"].items()}
    truth = GroundTruth(str(results / "dataset/masks"), len(COCO_CLASSES))
    for images in expected.values():
        for image_id, (_, mask) in images.items():
            np.testing.assert_array_equal(truth.load(image_id), mask)
    jobs = planned_jobs(snakemake(tmp_path / "run", "-n", "--cores", "2").stdout)
    assert "index_coco" not in jobs and jobs["evaluate"] == 2 and jobs["export_pseudo_labels"] == 1
