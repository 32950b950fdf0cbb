import numpy as np

from mcof.superpixels import (felzenszwalb_superpixels, neighbour_max, paint, region_adjacency,
                              region_majority, region_means, region_sizes)

LABELS = np.array([[0, 0, 1, 1],
                   [0, 2, 2, 1],
                   [3, 3, 2, 1],
                   [3, 3, 3, 3]], np.int32)


def test_paint_gives_each_pixel_its_region_label():
    assert paint(LABELS, np.array([9, 8, 7, 6]))[2].tolist() == [6, 6, 7, 8]


def test_adjacency_by_hand():
    # 0-1, 0-2, 0-3, 1-2, 1-3, 2-3 all share an edge; check the list exactly
    assert region_adjacency(LABELS).tolist() == [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]
    stripes = np.array([[0, 1, 2]], np.int32)
    assert region_adjacency(stripes).tolist() == [[0, 1], [1, 2]]


def test_region_means_and_sizes_by_hand():
    values = np.arange(16, dtype=np.float64).reshape(4, 4)
    # region 0 = {0, 1, 4}: mean 5/3; region 2 = {5, 6, 10}: mean 7
    means = region_means(LABELS, values)
    assert means[0] == 5 / 3 and means[2] == 7
    stacked = region_means(LABELS, np.stack([values, 2 * values]))
    assert stacked.shape == (4, 2) and stacked[2].tolist() == [7, 14]
    assert region_sizes(LABELS).tolist() == [3, 4, 3, 6]


def test_region_means_equal_a_loop_on_random_data():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 7, (20, 30))
    values = rng.random((3, 20, 30))
    fast = region_means(labels, values)
    for r in range(7):
        np.testing.assert_allclose(fast[r], values[:, labels == r].mean(axis=1))


def test_neighbour_max():
    values = np.array([[1.0], [5.0], [2.0]])
    adjacency = np.array([[0, 1], [1, 2]])
    assert neighbour_max(values, adjacency)[:, 0].tolist() == [5.0, 2.0, 5.0]


def test_majority_votes_skip_ignore():
    mask = np.array([[1, 1, 255, 2],
                     [1, 0, 0, 2],
                     [0, 0, 0, 2],
                     [0, 0, 255, 255]], np.uint8)
    votes = region_majority(LABELS, mask, 3)
    assert votes[0].tolist() == [0, 3, 0]      # pixels 0, 1, 4
    assert votes[1].tolist() == [0, 0, 3]      # pixel 2 is 255
    assert votes[3].tolist() == [4, 0, 0]


def test_felzenszwalb_regions_are_connected_and_numbered(tiny_voc):
    from skimage.measure import label

    _, train, _ = tiny_voc
    image = train.load_image(train.ids[0])
    sp = felzenszwalb_superpixels(image, scale=60, sigma=0.6, min_size=10)
    assert sp.dtype == np.int32 and sp.min() == 0
    n = sp.max() + 1
    assert set(np.unique(sp)) == set(range(n))
    for r in range(n):
        assert label(sp == r, connectivity=1).max() == 1
