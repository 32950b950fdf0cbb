import numpy as np
import pytest

from mcof.metrics import ConfusionMatrix, SaliencyScores


def test_hand_computed_4x4():
    """gt / pred below. Class 0: tp 5, fp 1, fn 2 -> 5/8. Class 1: tp 4, fp 2, fn 1 -> 4/7.
    Class 2: tp 2, fp 1, fn 1 -> 2/4. The 255 pixel is ignored (15 pixels counted)."""
    gt = np.array([[0, 0, 0, 1], [0, 0, 1, 1], [0, 2, 2, 1], [2, 1, 255, 0]], np.uint8)
    pred = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 2, 0], [1, 1, 0, 0]], np.uint8)
    cm = ConfusionMatrix(3)
    cm.add(gt, pred)
    np.testing.assert_allclose(cm.iou(), [5 / 8, 4 / 7, 2 / 4])
    assert cm.miou() == pytest.approx((5 / 8 + 4 / 7 + 2 / 4) / 3)
    assert cm.matrix.sum() == 15


def test_against_independent_set_computation():
    rng = np.random.default_rng(1)
    gt = rng.integers(0, 5, (30, 40)).astype(np.uint8)
    gt[rng.random(gt.shape) < 0.1] = 255
    pred = rng.integers(0, 5, (30, 40)).astype(np.uint8)
    cm = ConfusionMatrix(5)
    cm.add(gt[:15], pred[:15])
    cm.add(gt[15:], pred[15:])
    valid = gt != 255
    for c in range(5):
        inter = np.sum((gt == c) & (pred == c) & valid)
        union = np.sum(((gt == c) | (pred == c)) & valid)
        assert cm.iou()[c] == pytest.approx(inter / union)


def test_unlabelled_counts_as_background_for_iou_but_not_for_precision():
    """gt: 2 object px, 2 bg px. Seeds: one object px right, one unlabelled, bg px: one bg seed,
    one unlabelled. Object precision 1/1, recall 1/2. IoU(bg) = 2 / (2 + 1) with unlabelled as bg."""
    gt = np.array([[1, 1, 0, 0]], np.uint8)
    seeds = np.array([[1, 255, 0, 255]], np.uint8)
    cm = ConfusionMatrix(2)
    cm.add(gt, seeds)
    scores = cm.seed_scores()
    assert scores["object_precision"] == 1.0 and scores["object_recall"] == 0.5
    assert scores["labelled_fraction"] == 0.5
    np.testing.assert_allclose(cm.iou(), [2 / 3, 1 / 2])


def test_summary_roundtrip():
    cm = ConfusionMatrix(2)
    cm.add(np.array([[0, 1]]), np.array([[0, 1]]))
    summary = cm.summary(["background", "thing"])
    assert summary["miou"] == 100.0 and summary["iou"]["thing"] == 100.0
    assert np.array_equal(ConfusionMatrix.from_summary(summary).matrix, cm.matrix)


def test_absent_class_is_nan_and_excluded():
    cm = ConfusionMatrix(3)
    cm.add(np.array([[0, 1]]), np.array([[0, 1]]))
    assert np.isnan(cm.iou()[2]) and cm.miou() == 1.0


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="differ in shape"):
        ConfusionMatrix(2).add(np.zeros((2, 2)), np.zeros((2, 3)))


def test_saliency_scores_by_hand():
    """Perfect map: MAE 0, F 1. Inverted map: MAE 1, adaptive F 0."""
    mask = np.array([[0, 0, 1, 255]], np.uint8)
    perfect = SaliencyScores()
    perfect.add(np.array([[0.0, 0.0, 1.0, 0.3]]), mask)
    assert perfect.summary()["mae"] == 0.0
    assert perfect.summary()["max_f_measure"] == pytest.approx(1.0)
    assert perfect.summary()["adaptive_f_measure"] == pytest.approx(1.0)
    inverted = SaliencyScores()
    inverted.add(np.array([[1.0, 1.0, 0.0, 0.3]]), mask)
    assert inverted.summary()["mae"] == pytest.approx(1.0)
    assert inverted.summary()["adaptive_f_measure"] == 0.0
    both = SaliencyScores.from_state(perfect.state()).merge(inverted)
    assert both.summary()["n_images"] == 2 and both.summary()["mae"] == pytest.approx(0.5)


def test_saliency_half_map():
    """Map 0.5 on object and 0.25 on one of two bg px: MAE = (0.5 + 0.25 + 0) / 3 = 0.25."""
    scores = SaliencyScores()
    scores.add(np.array([[0.5, 0.25, 0.0]]), np.array([[1, 0, 0]], np.uint8))
    assert scores.summary()["mae"] == pytest.approx(0.25)
