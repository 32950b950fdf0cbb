import numpy as np
import pytest

from mcof.crf import CRFSettings, dense_crf


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
    refined = dense_crf(image, probs, CRFSettings(bi_xy_std=20, bi_rgb_std=10))
    after = (refined.argmax(0) == truth).mean()
    assert refined.shape == probs.shape
    np.testing.assert_allclose(refined.sum(0), 1.0, atol=1e-5)
    assert before < 0.85 and after > 0.98


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
    with pytest.raises(CRFUnavailable, match="pydensecrf2"):
        dense_crf(np.zeros((4, 4, 3), np.uint8), np.full((2, 4, 4), 0.5, np.float32))
