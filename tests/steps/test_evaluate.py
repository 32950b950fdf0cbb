"""Evaluation steps on hand-made 4x4 artifacts whose scores are counted by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from mcof import IGNORE
from mcof.artifacts import ArtifactWriter
from mcof.data.voc import DatasetIndex
from mcof.files import read_json
from mcof.layout import REGIONS, SEEDS, SUPERPIXELS, TEST_MASKS, TRAIN_MASKS, VAL_MASKS
from mcof.steps.evaluate import (compare_runs, evaluate_stage, evaluate_targets,
                                 summarize_iteration)
from mcof.steps.export import export_pngs

CLASSES = ["background", "alpha", "beta"]
# image a holds alpha and beta (a multi-class image), image b alpha only
TRUTH = {
    "a": np.array([[0, 0, 1, 1], [0, 0, 1, 1], [0, 2, 2, 255], [0, 2, 2, 0]], np.uint8),
    "b": np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], np.uint8),
}
BLOCKS = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]], np.int32)


@pytest.fixture
def dataset(tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    for image_id, mask in TRUTH.items():
        Image.fromarray(mask, mode="L").save(masks / f"{image_id}.png")
    index = DatasetIndex(str(tmp_path), "train", CLASSES, ["a", "b"], {"a": [1, 2], "b": [1]},
                         {"a": "a.jpg", "b": "b.jpg"})
    index.save(tmp_path / "train.json")
    with ArtifactWriter(tmp_path / "sp.h5", SUPERPIXELS) as out:
        for image_id in TRUTH:
            out.write(image_id, labels=BLOCKS)
    return tmp_path, str(masks)


def test_seed_diagnostics_match_a_hand_count(dataset):
    """Seeds per 2x2 block. a: [1, 1, 2, 255] -> block 1 right (alpha), block 0 alpha on
    background (4 px wrong), block 2 beta: 2 beta px right, 2 background px wrong, block 3
    unlabelled. b: [1, 0, 0, 255].

    Object pixels given a class: a 4 + 4 + 4, b 4 = 16; right: a 4 + 2, b 4 = 10 -> precision
    10/16. Object pixels in the truth: a 4 alpha + 4 beta, b 4 = 12 -> recall 10/12.
    Background seeds: b blocks 1 and 2, all background: precision 8/8. Pixels counted (255
    ignored): 31; unlabelled: a block 3 (3 counted), b block 3 (4) -> coverage 24/31.
    """
    root, mask_dir = dataset
    with ArtifactWriter(root / "seeds.h5", SEEDS) as out:
        out.write("a", labels=np.array([1, 1, 2, IGNORE], np.uint8))
        out.write("b", labels=np.array([1, 0, 0, IGNORE], np.uint8))
    scores = evaluate_stage(str(root / "train.json"), [str(root / "seeds.h5")],
                            str(root / "seeds_metrics.json"), stage=SEEDS, mask_dir=mask_dir,
                            superpixels=[str(root / "sp.h5")])
    assert scores["object_precision"] == pytest.approx(100 * 10 / 16)
    assert scores["object_recall"] == pytest.approx(100 * 10 / 12)
    assert scores["background_precision"] == pytest.approx(100.0)
    assert scores["labelled_fraction"] == pytest.approx(100 * 24 / 31)
    multi, single = scores["groups"]["multi_class"], scores["groups"]["single_class"]
    assert (multi["n_images"], single["n_images"]) == (1, 1)
    assert multi["object_precision"] == pytest.approx(100 * 6 / 12)
    assert multi["object_recall"] == pytest.approx(100 * 6 / 8)
    assert single["object_recall"] == pytest.approx(100.0)
    assert read_json(root / "seeds_metrics.json")["n_images"] == 2


def test_pixelnet_targets_ignore_unsure_regions(dataset):
    """Regions with RegionNet confidence below 0.8 are not trained on: counted as unlabelled."""
    root, mask_dir = dataset
    with ArtifactWriter(root / "regions.h5", REGIONS) as out:
        for image_id, labels in (("a", [0, 1, 2, 0]), ("b", [1, 0, 0, 0])):
            out.write(image_id, labels=np.array(labels, np.uint8),
                      confidence=np.array([0.5, 0.9, 0.9, 0.9], np.float16),
                      scores=np.zeros((4, 3), np.float16))
    scores = evaluate_targets(str(root / "train.json"), [str(root / "regions.h5")],
                              [str(root / "sp.h5")], str(root / "targets.json"),
                              target="superpixel_labels", label_stage=REGIONS,
                              min_label_confidence=0.8, mask_dir=mask_dir)
    # block 0 of both images is ignored: 4 + 4 of 31 pixels
    assert scores["labelled_fraction"] == pytest.approx(100 * 23 / 31)
    assert scores["object_recall"] == pytest.approx(100 * 6 / 12)  # a's alpha and beta blocks


def test_a_dataset_without_masks_reports_no_masks(dataset):
    root, _ = dataset
    with ArtifactWriter(root / "seeds.h5", SEEDS) as out:
        for image_id in TRUTH:
            out.write(image_id, labels=np.zeros(4, np.uint8))
    scores = evaluate_stage(str(root / "train.json"), [str(root / "seeds.h5")],
                            str(root / "m.json"), stage=SEEDS, mask_dir=None,
                            superpixels=[str(root / "sp.h5")])
    assert scores == {"stage": SEEDS, "split": "train", "no_masks": True}


def stage_file(path, stage, split, miou, recall=50.0):
    groups = {g: {"n_images": 1, "object_precision": 90.0, "object_recall": recall,
                  "background_precision": 95.0, "labelled_fraction": 80.0, "miou": miou}
              for g in ("single_class", "multi_class")}
    path.write_text(json.dumps({"stage": stage, "split": split, "n_images": 2, "miou": miou,
                                "iou": {"background": 90.0, "alpha": miou}, "confusion": [[1]],
                                "object_precision": 90.0, "object_recall": recall,
                                "background_precision": 95.0, "labelled_fraction": 80.0,
                                "groups": groups}))
    return str(path)


def test_iteration_summary_reports_the_test_split(tmp_path):
    stages = {SEEDS: stage_file(tmp_path / "s.json", SEEDS, "train", 30.0),
              TRAIN_MASKS: stage_file(tmp_path / "t.json", TRAIN_MASKS, "train", 70.0, recall=80.0),
              VAL_MASKS: stage_file(tmp_path / "v.json", VAL_MASKS, "val", 65.0),
              TEST_MASKS: stage_file(tmp_path / "x.json", TEST_MASKS, "test", 63.456)}
    report = summarize_iteration(stages, str(tmp_path / "metrics.json"), str(tmp_path / "miou.txt"),
                                 iteration=3, reported_split="test")
    assert (tmp_path / "miou.txt").read_text() == "63.46\n"
    assert report["miou"] == report["test_miou"] == 63.456 and report["val_miou"] == 65.0
    assert report["train_miou"] == {SEEDS: 30.0, TRAIN_MASKS: 70.0}
    assert report["train_val_gap"] == pytest.approx(5.0)
    assert report["diagnostics"][TRAIN_MASKS]["object_recall"] == 80.0
    assert report["diagnostics"][SEEDS]["multi_class"]["n_images"] == 1
    assert "confusion" not in report["stages"][SEEDS]


def test_compare_runs_lists_every_split_per_iteration(tmp_path):
    paths = []
    for k, (val, test) in enumerate(((60.0, 58.0), (62.0, 61.0)), start=1):
        path = tmp_path / f"m{k}.json"
        path.write_text(json.dumps({"iteration": k, "reported_split": "test", "miou": test,
                                    "val_miou": val, "test_miou": test, "train_miou": {}}))
        paths.append(str(path))
    table = compare_runs(str(tmp_path / "c.json"), runs={"results": paths, "results/ablation/full": paths[:1]})
    assert table["results"]["test_miou"] == {1: 58.0, 2: 61.0}
    assert table["results"]["val_miou"] == {1: 60.0, 2: 62.0}
    assert table["results/ablation/full"]["last_miou"] == 58.0
    assert read_json(tmp_path / "c.json")["runs"]["results"]["reported_split"] == "test"


def test_exported_pngs_equal_the_masks(tmp_path):
    masks = {"x": np.array([[0, 1], [2, 0]], np.uint8), "y": np.ones((3, 2), np.uint8)}
    with ArtifactWriter(tmp_path / "m.h5", VAL_MASKS) as out:
        for image_id, mask in masks.items():
            out.write(image_id, mask=mask, confidence=np.ones(mask.shape, np.float16))
    assert export_pngs([str(tmp_path / "m.h5")], str(tmp_path / "pngs"), stage=VAL_MASKS) == 2
    for image_id, mask in masks.items():
        png = Image.open(tmp_path / "pngs" / f"{image_id}.png")
        assert png.mode == "P" and np.array_equal(np.asarray(png), mask)
        assert png.getpalette()[3:6] == [128, 0, 0]
    assert not list(tmp_path.glob(".*tmp*"))
