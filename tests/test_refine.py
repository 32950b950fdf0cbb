import numpy as np
import pytest

from mcof.refine import bayes_posterior, colour_bins, colour_likelihood, refine_regions


def test_bayes_posterior_by_hand():
    """Four pixels, two colours (bins 0 and 1). Foreground region = pixels 0, 1 (bins 0, 1);
    background = pixels 2, 3 (bins 1, 1). Without smoothing p(c|fg) = (1/2, 1/2) and
    p(c|bg) = (0, 1). Pixel 3 (bin 1, prior 0.8): 0.8*0.5 / (0.8*0.5 + 0.2*1) = 2/3.
    Pixel 0 (bin 0, prior 0.1): 0.1*0.5 / (0.1*0.5 + 0.9*0) = 1."""
    bins = np.array([[0, 1], [1, 1]])
    fg = np.array([[True, True], [False, False]])
    prior = np.array([[0.1, 0.5], [0.5, 0.8]])
    post = bayes_posterior(prior, bins, fg, n_bins=2, smoothing=0.0)
    assert post[1, 1] == pytest.approx(2 / 3)
    assert post[0, 0] == pytest.approx(1.0)
    assert post[0, 1] == pytest.approx(0.5 * 0.5 / (0.5 * 0.5 + 0.5 * 1))


def test_likelihood_smoothing():
    bins = np.array([0, 0, 1])
    p = colour_likelihood(bins, np.array([True, True, True]), 3, smoothing=1.0)
    np.testing.assert_allclose(p, [3 / 6, 2 / 6, 1 / 6])


def test_colour_bins():
    image = np.array([[[0, 0, 0], [255, 255, 255], [128, 0, 255]]], np.uint8)
    assert colour_bins(image, 2).tolist() == [[0, 7, 5]]


def scene():
    """A red square on grey, four superpixels: object (0), two background (1, 2), one mixed (3)."""
    image = np.full((8, 8, 3), 128, np.uint8)
    image[2:6, 2:6] = (200, 30, 30)
    sp = np.zeros((8, 8), np.int64)
    sp[:, :] = 1
    sp[6:, :] = 2
    sp[2:6, 2:4] = 0
    sp[2:6, 4:6] = 3
    saliency = np.zeros((8, 8))
    saliency[2:6, 2:6] = 0.9
    return image, sp, saliency


def test_refinement_adds_the_salient_part_of_a_single_class_image():
    image, sp, saliency = scene()
    labels = np.array([5, 0, 0, 0], np.uint8)         # RegionNet found half of the object
    scores = np.zeros((4, 6))
    scores[0, 5], scores[1:, 0] = 0.9, 0.8
    scores[1:, 5] = 0.2
    refined = refine_regions(image, sp, labels, scores, saliency, [5], threshold=0.5, keep_object=None)
    assert refined.tolist() == [5, 0, 0, 5]


def test_multi_class_images_keep_regionnet_labels_and_keep_object_protects():
    image, sp, saliency = scene()
    labels = np.array([5, 2, 0, 0], np.uint8)
    scores = np.full((4, 6), 0.1)
    assert refine_regions(image, sp, labels, scores, saliency, [2, 5], 0.5, None).tolist() == [5, 2, 0, 0]
    # a confident background-looking object region survives only with keep_object
    labels = np.array([0, 5, 0, 0], np.uint8)
    scores = np.zeros((4, 6))
    scores[1, 5] = 0.95
    scores[[0, 2, 3], 0] = 1.0
    assert refine_regions(image, sp, labels, scores, saliency, [5], 0.5, 0.9)[1] == 5
    assert refine_regions(image, sp, labels, scores, saliency, [5], 0.5, None)[1] == 0


def test_multi_class_saliency_refines_the_union_and_gives_each_region_its_best_class():
    """Labels 2 and 5; RegionNet found class 5 on region 0 only, and scores class 2 higher than
    5 on the salient mixed region 3. With multi_class 'saliency' the union of the classes is
    refined as one object: region 3 (salient, same colour) joins as class 2, the grey regions
    stay background; with 'keep' (the paper) RegionNet's labels stay as they are."""
    image, sp, saliency = scene()
    labels = np.array([5, 0, 0, 0], np.uint8)
    scores = np.zeros((4, 6))
    scores[0, 5], scores[1:3, 0] = 0.9, 0.8
    scores[3, 2], scores[3, 5], scores[3, 0] = 0.4, 0.2, 0.4
    refined = refine_regions(image, sp, labels, scores, saliency, [2, 5], 0.5, None,
                             multi_class="saliency")
    assert refined.tolist() == [5, 0, 0, 2]
    assert refine_regions(image, sp, labels, scores, saliency, [2, 5], 0.5, None,
                          multi_class="keep").tolist() == labels.tolist()
