"""The dataset steps: embedded datasets written and indexed, splits indexed without masks."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from mcof.data.photos import PHOTO_CLASSES
from mcof.data.voc import DatasetError, DatasetIndex
from mcof.steps.dataset import dataset_classes, index_dataset, prepare_embedded

LISTS = "ImageSets/Segmentation"


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    out = tmp_path_factory.mktemp("photos") / "VOC2012"
    prepare_embedded(str(out), source="photos",
                     spec=dict(n_train=10, n_val=3, n_test=4, size=64, max_objects=3, seed=1))
    return out


def test_photo_dataset_has_three_splits_of_real_classes(photos):
    lists = {split: (photos / LISTS / f"{split}.txt").read_text().split()
             for split in ("train", "val", "test")}
    assert {k: len(v) for k, v in lists.items()} == {"train": 10, "val": 3, "test": 4}
    assert not set(lists["test"]) & (set(lists["train"]) | set(lists["val"]))
    seen = set()
    for image_id in sum(lists.values(), []):
        image = np.asarray(Image.open(photos / "JPEGImages" / f"{image_id}.jpg"))
        mask = np.asarray(Image.open(photos / "SegmentationClass" / f"{image_id}.png"))
        assert image.shape == (64, 64, 3) and mask.shape == (64, 64)
        assert set(np.unique(mask)) <= set(range(len(PHOTO_CLASSES) + 1)) | {255}
        seen |= set(np.unique(mask).tolist()) - {0, 255}
    assert len(seen) >= 3
    assert not list(photos.parent.glob(".*tmp*"))


def test_embedded_datasets_are_deterministic(tmp_path):
    spec = dict(n_train=3, n_val=1, n_test=1, size=48, max_objects=2, seed=0)
    for name in ("a", "b"):
        prepare_embedded(str(tmp_path / name), source="photos", spec=spec)
    for png in (tmp_path / "a" / "SegmentationClass").iterdir():
        assert png.read_bytes() == (tmp_path / "b" / "SegmentationClass" / png.name).read_bytes()


def test_test_split_leaves_train_and_val_unchanged(tmp_path):
    spec = dict(n_train=4, n_val=2, size=48, n_classes=3, max_objects=2, seed=5)
    prepare_embedded(str(tmp_path / "with"), source="synthetic", spec={**spec, "n_test": 3})
    prepare_embedded(str(tmp_path / "without"), source="synthetic", spec={**spec, "n_test": 0})
    for split in ("train", "val"):
        ids = (tmp_path / "with" / LISTS / f"{split}.txt").read_text().split()
        assert ids == (tmp_path / "without" / LISTS / f"{split}.txt").read_text().split()
        for image_id in ids:
            name = f"SegmentationClass/{image_id}.png"
            assert (tmp_path / "with" / name).read_bytes() == (tmp_path / "without" / name).read_bytes()
    assert not (tmp_path / "without" / LISTS / "test.txt").exists()


def test_test_split_is_indexed_without_its_masks(photos, tmp_path):
    """Prediction on val and test needs ids and images only: their masks may be absent until
    evaluation, and the weak chain never reads them."""
    root = tmp_path / "copy"
    shutil.copytree(photos, root)
    for image_id in (root / LISTS / "test.txt").read_text().split():
        (root / "SegmentationClass" / f"{image_id}.png").unlink()
    classes = dataset_classes("photos", 0, None)
    index_dataset(str(tmp_path / "test.json"), root=str(root), split="test",
                  list_path=f"{LISTS}/test.txt", image_dir="JPEGImages", mask_dir="SegmentationClass",
                  labels_from=None, label_file=None, classes=classes)
    index = DatasetIndex.load(tmp_path / "test.json")
    assert len(index.ids) == 4 and index.labels == {} and "mask" not in json.dumps(vars(index))
    index_dataset(str(tmp_path / "train.json"), root=str(root), split="train",
                  list_path=f"{LISTS}/train.txt", image_dir="JPEGImages", mask_dir="SegmentationClass",
                  labels_from="masks", label_file=None, classes=classes)
    train = DatasetIndex.load(tmp_path / "train.json")
    assert all(train.labels[i] for i in train.ids) and train.classes[1:] == list(PHOTO_CLASSES)
    assert not hasattr(train, "load_mask")


@pytest.fixture
def folder(tiny_voc, tmp_path):
    """A folder of JPEGs and a label CSV made from the tiny dataset, with no mask anywhere."""
    root, train, _ = tiny_voc
    images = tmp_path / "folder" / "images"
    images.mkdir(parents=True)
    for image_id in train.ids:
        shutil.copy(root / "JPEGImages" / f"{image_id}.jpg", images)
    lines = [f"{i},{' '.join(train.classes[c] for c in train.labels[i])}" for i in train.ids
             if train.labels[i]]
    (tmp_path / "folder" / "labels.csv").write_text("image_id,labels\n" + "\n".join(lines) + "\n")
    return tmp_path / "folder", train


def index_folder(folder, out, label_file="labels.csv", **changes):
    args = dict(root=str(folder), split="train", list_path=None, image_dir="images",
                mask_dir=None, labels_from="file", label_file=str(folder / label_file),
                classes=["background", "alpha", "beta", "gamma"])
    index_dataset(str(out), **{**args, **changes})


def test_a_folder_with_a_label_file_needs_no_masks(folder, tmp_path):
    root, train = folder
    index_folder(root, tmp_path / "train.json")
    index = DatasetIndex.load(tmp_path / "train.json")
    labelled = [i for i in train.ids if train.labels[i]]
    assert index.ids == labelled and index.labels == {i: train.labels[i] for i in labelled}
    assert index.images[labelled[0]] == f"images/{labelled[0]}.jpg" and index.no_label_ids == []


def break_label_file(root, train, how):
    """Rewrite labels.csv so that its third data line (file line 4) is bad; returns that id."""
    path = root / "labels.csv"
    lines = path.read_text().splitlines()
    victim = lines[3].split(",")[0]
    if how == "unknown class":
        lines[3] = f"{victim},alpha dragon"
    elif how == "no image":
        (root / "images" / f"{victim}.jpg").unlink()
    elif how == "duplicate id":
        victim = lines[1].split(",")[0]
        lines[3] = f"{victim},beta"
    elif how == "empty label set":
        lines[3] = f"{victim},"
    path.write_text("\n".join(lines) + "\n")
    return victim


@pytest.mark.parametrize("how, message", [
    ("unknown class", "unknown class dragon"),
    ("no image", "no image file"),
    ("duplicate id", "is listed twice (first on line 2)"),
    ("empty label set", "has no class names"),
])
def test_bad_label_file_names_file_id_and_line_and_writes_nothing(folder, tmp_path, how, message):
    root, train = folder
    victim = break_label_file(root, train, how)
    out = tmp_path / "out" / "train.json"
    with pytest.raises(DatasetError) as err:
        index_folder(root, out)
    text = str(err.value)
    assert "\n" not in text and message in text
    assert text.startswith(f"label file {root / 'labels.csv'}, line 4: image {victim}")
    assert not out.exists() and not (out.parent.exists() and any(out.parent.iterdir()))
