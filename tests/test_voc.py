import logging

import numpy as np
import pytest
from PIL import Image

from mcof.data.voc import DatasetError, DatasetIndex, build_index, labels_from_mask, read_id_list


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
