import numpy as np
import pytest
from PIL import Image

from mcof.saliency import SaliencyError, find_external_maps, load_external_map, rbd_saliency


def test_rbd_finds_a_centred_object():
    """A saturated disc on a grey, noisy background: the disc is far more salient."""
    rng = np.random.default_rng(0)
    image = np.clip(rng.normal(120, 8, (80, 100, 3)), 0, 255).astype(np.uint8)
    yy, xx = np.mgrid[0:80, 0:100]
    disc = (yy - 40) ** 2 + (xx - 50) ** 2 < 18**2
    image[disc] = (220, 40, 40)
    saliency = rbd_saliency(image, pixels_per_region=40)
    assert saliency.shape == (80, 100) and saliency.dtype == np.float32
    assert 0 <= saliency.min() and saliency.max() <= 1
    assert saliency[disc].mean() > 0.7 and saliency[~disc].mean() < 0.2


def test_rbd_on_synthetic_images_beats_chance(tiny_voc, tiny_truth):
    _, train, _ = tiny_voc
    gaps = []
    for image_id in train.ids[:6]:
        mask = tiny_truth.load(image_id)
        s = rbd_saliency(train.load_image(image_id), pixels_per_region=40)
        gaps.append(s[(mask > 0) & (mask < 255)].mean() - s[mask == 0].mean())
    assert np.mean(gaps) > 0.2


def test_external_maps_missing_ids_are_listed(tmp_path):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "a.png")
    with pytest.raises(SaliencyError, match=r"no map for image\(s\): b, c"):
        find_external_maps(tmp_path, ["a", "b", "c"])
    with pytest.raises(SaliencyError, match="directory not found"):
        find_external_maps(tmp_path / "nope", ["a"])
    assert find_external_maps(tmp_path, ["a"]) == {"a": tmp_path / "a.png"}


def test_external_map_scaled_and_resized(tmp_path):
    Image.fromarray(np.full((4, 6), 255, np.uint8)).save(tmp_path / "a.png")
    out = load_external_map(tmp_path / "a.png", "a", (8, 12))
    assert out.shape == (8, 12) and np.allclose(out, 1.0)
    (tmp_path / "b.png").write_bytes(b"not a png")
    with pytest.raises(SaliencyError, match="saliency map of image b"):
        load_external_map(tmp_path / "b.png", "b", (8, 12))
