import json
import logging

import numpy as np
import pytest
from PIL import Image

from mcof.data.voc import (DatasetError, DatasetIndex, build_index, find_image, labels_from_mask,
                           read_id_list, read_label_file)


def copy_dataset(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_index_labels_come_from_masks(tiny_voc):
    root, train, _ = tiny_voc
    for image_id in train.ids:
        mask = np.asarray(Image.open(root / "SegmentationClass" / f"{image_id}.png"))
        assert train.labels[image_id] == sorted(set(np.unique(mask).tolist()) - {0, 255})
        vec = train.label_vector(image_id)
        assert vec.shape == (3,) and set(np.nonzero(vec)[0] + 1) == set(train.labels[image_id])


def test_index_roundtrip(tiny_voc, tmp_path):
    _, train, _ = tiny_voc
    train.save(tmp_path / "i.json")
    again = DatasetIndex.load(tmp_path / "i.json")
    assert again == train and again.n_classes == 4


def test_labels_from_mask():
    mask = np.array([[0, 2, 255], [2, 5, 0]], dtype=np.uint8)
    assert labels_from_mask(mask) == [2, 5]


def test_corrupt_jpeg_names_the_file(tiny_voc, tmp_path):
    root = copy_dataset(tiny_voc[0], tmp_path / "voc")
    victim = tiny_voc[1].ids[2]
    path = root / "JPEGImages" / f"{victim}.jpg"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DatasetError, match=victim) as err:
        build_index(root, "train", tiny_voc[1].classes, "ImageSets/Segmentation/train.txt",
                    mask_dir="SegmentationClass")
    assert str(path) in str(err.value)


def test_missing_mask_names_the_file(tiny_voc, tmp_path):
    root = copy_dataset(tiny_voc[0], tmp_path / "voc")
    victim = tiny_voc[1].ids[0]
    (root / "SegmentationClass" / f"{victim}.png").unlink()
    with pytest.raises(DatasetError, match=f"mask of image {victim}: file not found"):
        build_index(root, "train", tiny_voc[1].classes, "ImageSets/Segmentation/train.txt",
                    mask_dir="SegmentationClass")


def test_wrongly_sized_mask(tiny_voc, tmp_path):
    root = copy_dataset(tiny_voc[0], tmp_path / "voc")
    victim = tiny_voc[1].ids[1]
    Image.fromarray(np.zeros((10, 12), np.uint8), mode="L").save(root / "SegmentationClass" / f"{victim}.png")
    with pytest.raises(DatasetError, match=f"{victim}.*12x10 but the image is 48x48"):
        build_index(root, "train", tiny_voc[1].classes, "ImageSets/Segmentation/train.txt",
                    mask_dir="SegmentationClass")


def test_unknown_class_id(tiny_voc, tmp_path):
    root = copy_dataset(tiny_voc[0], tmp_path / "voc")
    victim = tiny_voc[1].ids[3]
    mask = np.zeros((48, 48), np.uint8)
    mask[:4, :4] = 9
    Image.fromarray(mask, mode="L").save(root / "SegmentationClass" / f"{victim}.png")
    with pytest.raises(DatasetError, match=rf"{victim}.*class ids \[9\] outside"):
        build_index(root, "train", tiny_voc[1].classes, "ImageSets/Segmentation/train.txt",
                    mask_dir="SegmentationClass")


def test_empty_list_and_missing_list(tmp_path):
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(DatasetError, match="lists no images"):
        read_id_list(tmp_path / "empty.txt")
    with pytest.raises(DatasetError, match="image list not found"):
        read_id_list(tmp_path / "nope.txt")


def test_image_without_labels_is_indexed_and_reported(tiny_voc, tmp_path, caplog):
    root = copy_dataset(tiny_voc[0], tmp_path / "voc")
    victim = tiny_voc[1].ids[4]
    Image.fromarray(np.zeros((48, 48), np.uint8), mode="L").save(root / "SegmentationClass" / f"{victim}.png")
    with caplog.at_level(logging.WARNING, logger="mcof"):
        index = build_index(root, "train", tiny_voc[1].classes, "ImageSets/Segmentation/train.txt",
                            mask_dir="SegmentationClass")
    assert index.no_label_ids == [victim] and index.labels[victim] == []
    assert victim in caplog.text


CLASSES = ["background", "alpha", "beta", "traffic light"]


def test_label_file_formats_read_alike(tmp_path):
    """CSV: a header, names split by spaces, ';' or '|' or one per column, names with a space
    kept whole; JSON: id -> list of names (or one name)."""
    (tmp_path / "l.csv").write_text(
        "image_id,labels\n"
        "a,alpha beta\n"
        "\n"
        "# a comment\n"
        "b,traffic light;alpha\n"
        "c,beta,traffic light\n"
        "d,beta|beta\n")
    (tmp_path / "l.json").write_text(json.dumps(
        {"a": ["alpha", "beta"], "b": ["traffic light", "alpha"], "c": ["beta", "traffic light"],
         "d": "beta"}, indent=1))
    want = {"a": [1, 2], "b": [1, 3], "c": [2, 3], "d": [2]}
    csv_file = read_label_file(tmp_path / "l.csv", CLASSES)
    assert csv_file.labels == want and csv_file.lines == {"a": 2, "b": 5, "c": 6, "d": 7}
    json_file = read_label_file(tmp_path / "l.json", CLASSES)
    assert json_file.labels == want and json_file.lines == {"a": 2, "b": 6, "c": 10, "d": 14}


@pytest.mark.parametrize("text, message", [
    ("a,alpha\nb,alpha dragon\n", r"l.csv, line 2: image b: unknown class dragon"),
    ("a,alpha\nb,beta\na,beta\n", r"l.csv, line 3: image a is listed twice \(first on line 1\)"),
    ("a,alpha\nb,\n", r"l.csv, line 2: image b has no class names"),
    ("a,alpha\nb,background\n", r"l.csv, line 2: image b: unknown class background"),
    ('{"a": ["alpha"],\n "b": ["dragon"]}', r"l.json, line 2: image b: unknown class dragon"),
    ('{"a": ["alpha"],\n "a": ["beta"]}', r"l.json, line 2: image a is listed twice"),
    ('{"a": ["alpha"],\n "b": []}', r"l.json, line 2: image b has no class names"),
    ('{"a": 3}', r"l.json, line 1: image a: expected a list of class names"),
    ("# nothing\n", r"label file .*l.csv lists no images"),
])
def test_bad_label_file_is_one_line_naming_file_line_and_id(tmp_path, text, message):
    path = tmp_path / ("l.json" if text.startswith("{") else "l.csv")
    path.write_text(text)
    with pytest.raises(DatasetError, match=message) as err:
        read_label_file(path, CLASSES)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_find_image_tries_each_extension(tmp_path):
    (tmp_path / "img").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "img" / "x.png")
    assert find_image(tmp_path, "img", "x") == "img/x.png"
    with pytest.raises(DatasetError, match=r"image y: no image file .*img/y\.\{jpg,jpeg,png\}"):
        find_image(tmp_path, "img", "y")
