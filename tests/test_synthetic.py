import numpy as np
import pytest
from PIL import Image

from mcof import IGNORE
from mcof.data.synthetic import SyntheticSpec, class_looks, render_image, write_synthetic_voc


def test_layout_and_determinism(tmp_path):
    spec = SyntheticSpec(n_train=5, n_val=3, size=40, n_classes=3, seed=7)
    a = write_synthetic_voc(tmp_path / "a", spec)
    b = write_synthetic_voc(tmp_path / "b", spec)
    assert a == b
    assert len(a["train"]) == 5 and len(a["val"]) == 3
    assert not set(a["train"]) & set(a["val"])
    listed = (tmp_path / "a/ImageSets/Segmentation/train.txt").read_text().split()
    assert listed == a["train"]
    for image_id in a["train"] + a["val"]:
        img = Image.open(tmp_path / "a/JPEGImages" / f"{image_id}.jpg")
        mask_a = Image.open(tmp_path / "a/SegmentationClass" / f"{image_id}.png")
        mask_b = Image.open(tmp_path / "b/SegmentationClass" / f"{image_id}.png")
        assert img.size == (40, 40) and mask_a.mode == "P"
        assert np.array_equal(np.asarray(mask_a), np.asarray(mask_b))


def test_masks_have_objects_outlines_and_valid_ids():
    spec = SyntheticSpec(size=64, n_classes=4)
    rng = np.random.default_rng(0)
    looks = class_looks(spec.n_classes)
    n_multi, n_classes_seen = 0, set()
    for _ in range(40):
        image, mask = render_image(rng, spec, looks)
        assert image.shape == (64, 64, 3) and image.dtype == np.uint8
        values = set(np.unique(mask).tolist())
        assert values <= {0, 1, 2, 3, 4, IGNORE}
        labels = values - {0, IGNORE}
        assert labels, "every image holds at least one object"
        assert IGNORE in values, "object outlines are marked 255 as in VOC"
        n_multi += len(labels) > 1
        n_classes_seen |= labels
    assert n_classes_seen == {1, 2, 3, 4}
    assert 5 <= n_multi <= 30, "some but not all images hold several classes"


def test_discriminative_part_is_class_specific():
    """The head colours differ between classes; body hues only lean towards a class."""
    looks = class_looks(6)
    heads = {look.part_colors for look in looks}
    assert len(heads) == 6
    assert len({look.pattern for look in looks}) == 6


@pytest.mark.parametrize("bad", [dict(n_classes=0), dict(size=16), dict(n_train=0), dict(max_objects=0)])
def test_spec_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        SyntheticSpec(**bad)
