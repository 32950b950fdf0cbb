from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import yaml

from mcof.crf import CRFSettings, bilateral_offsets, dense_crf, kernel_settings, window_offsets


def disc_scene(size: int, seed: int = 0):
    """A red disc on blue with noise, and noisy two-class probabilities (66% right per pixel)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size]
    disc = (yy - size // 2) ** 2 + (xx - size // 2) ** 2 < (size // 3) ** 2
    image = np.full((size, size, 3), (40, 60, 200), np.float64)
    image[disc] = (220, 50, 40)
    image = np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8)
    logit = np.stack([np.zeros(disc.shape), disc - 0.5 + rng.normal(0, 1.2, disc.shape),
                      np.full(disc.shape, -1.0)])
    probs = np.exp(logit) / np.exp(logit).sum(0)
    return image, probs.astype(np.float32), disc.astype(int)


def test_crf_snaps_a_blurred_prediction_to_the_object_edge():
    image = np.full((40, 40, 3), 30, dtype=np.uint8)
    image[10:30, 10:30] = (220, 40, 40)
    truth = np.zeros((40, 40), dtype=int)
    truth[10:30, 10:30] = 1
    # a coarse prediction, as from output stride 8: the square shifted and blurred
    fg = np.zeros((40, 40), dtype=np.float32)
    fg[6:34, 6:34] = 0.6
    fg[12:28, 12:28] = 0.9
    probs = np.stack([1 - fg, fg])
    before = (probs.argmax(0) == truth).mean()
    refined = dense_crf(image, probs, CRFSettings(iterations=10, bi_xy_std=20, bi_rgb_std=10,
                                                  bi_weight=4, reference_size=None))
    after = (refined.argmax(0) == truth).mean()
    assert refined.shape == probs.shape
    np.testing.assert_allclose(refined.sum(0), 1.0, atol=1e-5)
    assert before < 0.85 and after > 0.98


def test_torch_crf_equals_pydensecrf_where_its_window_covers_the_kernel():
    """A window of +-20 pixels at spacing 1 holds every pixel within two standard deviations
    (10 px) of the bilateral kernel: the torch CRF is then the dense CRF itself, and agrees with
    pydensecrf2's permutohedral approximation to within its error."""
    pytest.importorskip("pydensecrf.densecrf")
    image, probs, truth = disc_scene(40)
    settings = dict(iterations=10, pos_xy_std=3, pos_weight=3, bi_xy_std=10, bi_rgb_std=13,
                    bi_weight=10, window=41, reference_size=None)
    ours = dense_crf(image, probs, CRFSettings(backend="torch", **settings))
    theirs = dense_crf(image, probs, CRFSettings(backend="pydensecrf", **settings))
    assert np.abs(ours - theirs).max() < 0.02
    assert (ours.argmax(0) == truth).mean() == 1.0 > (probs.argmax(0) == truth).mean()


def test_sparse_window_agrees_with_pydensecrf_at_96_pixels():
    pytest.importorskip("pydensecrf.densecrf")
    image, probs, truth = disc_scene(96, seed=1)
    settings = dict(iterations=5, bi_xy_std=80, bi_rgb_std=13, bi_weight=10, reference_size=500)
    ours = dense_crf(image, probs, CRFSettings(backend="torch", **settings))
    theirs = dense_crf(image, probs, CRFSettings(backend="pydensecrf", **settings))
    assert (ours.argmax(0) == theirs.argmax(0)).mean() > 0.99
    assert (ours.argmax(0) == truth).mean() > 0.99


def test_kernel_widths_scale_with_the_image():
    settings = CRFSettings(pos_xy_std=3, bi_xy_std=80, reference_size=500)
    assert settings.widths((375, 500)) == (3.0, 80.0)
    assert settings.widths((96, 96)) == pytest.approx((3 * 96 / 500, 80 * 96 / 500))
    assert CRFSettings(bi_xy_std=80, reference_size=None).widths((96, 96)) == (3.0, 80.0)  # pixels


def test_sparse_window_spans_two_standard_deviations():
    offsets, area = bilateral_offsets(5, 15.0)  # spacing ceil(30 / 5) = 6
    far = [o for o, a in zip(offsets, area) if a > 1]
    assert max(abs(dy) for dy, _ in far) == 30 and set(a for a in area if a > 1) == {36.0}
    assert set(window_offsets(3, 1)) <= set(offsets) and (0, 0) not in offsets
    assert len(offsets) == 48 + 120


def test_crf_keeps_excluded_classes_out():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    probs = rng.random((3, 16, 16)).astype(np.float32)
    probs[2] = 0.0
    probs /= probs.sum(0, keepdims=True)
    refined = dense_crf(image, probs)
    assert np.all(refined[2] == 0)
    assert set(np.unique(refined.argmax(0))) <= {0, 1}


def test_missing_package_is_a_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_crf(name, *args, **kwargs):
        if name.startswith("pydensecrf"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_crf)
    from mcof.crf import CRFUnavailable
    with pytest.raises(CRFUnavailable, match="pydensecrf2.*crf.backend: torch"):
        dense_crf(np.zeros((4, 4, 3), np.uint8), np.full((2, 4, 4), 0.5, np.float32),
                  CRFSettings(backend="pydensecrf"))
    dense_crf(np.zeros((4, 4, 3), np.uint8), np.full((2, 4, 4), 0.5, np.float32))  # torch: fine


def test_config_crf_defaults_are_the_scaled_deeplab_settings():
    """`mcof predict --crf` uses CRFSettings' defaults; the workflow uses config.yaml's crf keys:
    the same settings, so that the CLI refines as the measured val and test predictions were."""
    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
    assert kernel_settings(config["crf"]) == asdict(CRFSettings())
