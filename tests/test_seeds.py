import numpy as np

from mcof.seeds import seeds_from_cam, seeds_from_mask

SP = np.array([[0, 0, 1, 1],
               [0, 0, 1, 1],
               [2, 2, 3, 3],
               [2, 2, 3, 3]])
ADJ = np.array([[0, 1], [0, 2], [1, 3], [2, 3]])


def cam(values):
    """A [1, 4, 4] CAM constant on each 2x2 region, values per region 0..3."""
    return np.asarray(values, np.float32)[SP][None]


def test_threshold_local_max_and_background():
    """Region means 0.9, 0.3, 0.05, 0.35 of class 4. Region 0 is above the threshold; region 3 is
    a local max (neighbours 0.3, 0.05) above local_max_min; region 2 is background; region 1 is
    neither (below the threshold, not a local max) -> unlabelled."""
    seeds = seeds_from_cam(SP, ADJ, cam([0.9, 0.3, 0.05, 0.35]), np.array([4]),
                           object_threshold=0.8, local_max_min=0.3, background_threshold=0.1)
    assert seeds.tolist() == [4, 255, 0, 4]


def test_local_max_below_minimum_is_not_a_seed():
    """Region 3 (0.25) is a local max (neighbours 0.2, 0.05) but below local_max_min 0.3."""
    seeds = seeds_from_cam(SP, ADJ, cam([0.9, 0.2, 0.05, 0.25]), np.array([4]),
                           object_threshold=0.8, local_max_min=0.3, background_threshold=0.1)
    assert seeds.tolist() == [4, 255, 0, 255]


def test_two_classes_go_to_the_stronger():
    cams = np.concatenate([cam([0.9, 0.0, 0.0, 0.0]), cam([0.95, 0.0, 0.0, 0.5])])
    seeds = seeds_from_cam(SP, ADJ, cams, np.array([2, 7]), 0.8, 0.4, 0.1)
    assert seeds.tolist() == [7, 0, 0, 7]


def test_no_labels_means_all_background():
    seeds = seeds_from_cam(SP, ADJ, np.zeros((0, 4, 4), np.float32), np.array([], int), 0.8, 0.4, 0.1)
    assert seeds.tolist() == [0, 0, 0, 0]


def test_mask_projection_majority_and_label_restriction():
    """Region 0: 3 px of class 1, 1 px of 2 -> 1. Region 1: class 5 is not an image label, its
    votes are dropped -> background. Region 2: all 255 -> unlabelled. Region 3: class 2."""
    mask = np.array([[1, 1, 5, 5],
                     [1, 2, 5, 0],
                     [255, 255, 2, 2],
                     [255, 255, 2, 0]], np.uint8)
    seeds = seeds_from_mask(SP, mask, [1, 2], n_classes=6)
    assert seeds.tolist() == [1, 0, 255, 2]


def test_mask_projection_with_confidence():
    """Only pixels with confidence >= 0.9 vote; region 0 keeps 2 confident votes of 4 pixels:
    min_share 0.5 passes, 0.75 leaves it unlabelled."""
    mask = np.ones((4, 4), np.uint8)
    conf = np.full((4, 4), 0.95)
    conf[1, :2] = 0.5
    assert seeds_from_mask(SP, mask, [1], 2, conf, 0.9, 0.5).tolist() == [1, 1, 1, 1]
    assert seeds_from_mask(SP, mask, [1], 2, conf, 0.9, 0.75).tolist() == [255, 1, 1, 1]




def test_anchor_objects_keeps_background_and_cam_objects_only():
    from mcof.seeds import anchor_objects

    projected = np.array([0, 3, 3, 5, 255, 0], np.uint8)
    cam_seeds = np.array([0, 3, 255, 255, 5, 5], np.uint8)
    # background stays, projected objects become unlabelled unless the CAM marks them;
    # a CAM object seed wins over projected background (last region)
    assert anchor_objects(projected, cam_seeds).tolist() == [0, 3, 255, 255, 5, 5]


def test_keep_classes_restores_a_lost_class_from_its_cam_seeds_or_its_best_region():
    """Labels alpha (1) and beta (2); the seeds lost beta. With CAM seeds of beta on region 3
    they come back; without, beta takes region 2, its highest score among the regions that are
    no other class's object (region 1 is alpha's, even though beta scores highest there)."""
    seeds = np.array([0, 1, 255, 0], np.uint8)
    scores = np.array([[0.1, 0.0], [0.9, 0.95], [0.2, 0.6], [0.0, 0.3]])
    from mcof.seeds import keep_classes

    assert keep_classes(seeds, [1, 2], scores, np.array([0, 1, 0, 2], np.uint8)).tolist() == [0, 1, 255, 2]
    assert keep_classes(seeds, [1, 2], scores).tolist() == [0, 1, 2, 0]
    assert keep_classes(seeds, [1], scores[:, :1]).tolist() == seeds.tolist()  # nothing lost


def test_keep_classes_never_takes_the_last_regions_of_another_class():
    """The masks gave beta (2) region 1 and lost alpha (1), whose CAM seeds lie on regions 1
    and 2: alpha comes back on region 2 only, and beta keeps region 1. When alpha's CAM seeds
    lie on beta's only region alone, alpha takes its best free region instead (a case of a
    lever run on the synthetic set, where restoring one class's CAM seeds erased the other)."""
    from mcof.seeds import keep_classes

    seeds = np.array([0, 2, 0, 255], np.uint8)
    scores = np.array([[0.1, 0.0], [0.9, 0.8], [0.5, 0.1], [0.6, 0.2]])
    assert keep_classes(seeds, [1, 2], scores, np.array([0, 1, 1, 0], np.uint8)).tolist() == [0, 2, 1, 255]
    assert keep_classes(seeds, [1, 2], scores, np.array([0, 1, 0, 0], np.uint8)).tolist() == [0, 2, 0, 1]


def test_cam_seeds_keep_a_class_whose_cam_is_weak_everywhere():
    cams = np.zeros((2, 4, 4), np.float32)
    cams[0, :2, 2:] = 0.9            # class 1: a clear seed (region 1)
    cams[1, 2:, :2] = 0.3            # class 2: below both thresholds everywhere
    adjacency = np.array([[0, 1], [0, 2], [1, 3], [2, 3]])
    plain = seeds_from_cam(SP, adjacency, cams, np.array([1, 2]), 0.7, 0.5, 0.1)
    kept = seeds_from_cam(SP, adjacency, cams, np.array([1, 2]), 0.7, 0.5, 0.1,
                          keep_every_class=True)
    assert 2 not in plain.tolist() and kept.tolist() == [0, 1, 2, 0]


def test_keep_classes_when_one_class_holds_every_region():
    """Every region is class 1's seed and classes 2 and 3 like the same region best: each takes
    a region of its own, and class 1 keeps one."""
    seeds = np.array([1, 1, 1, 1], dtype=np.uint8)
    scores = np.array([[0.9, 0.1, 0.1], [0.2, 0.8, 0.9], [0.1, 0.7, 0.2], [0.1, 0.2, 0.6]])
    from mcof.seeds import keep_classes

    kept = keep_classes(seeds, [1, 2, 3], scores)
    assert set(kept.tolist()) == {1, 2, 3}
    assert kept[1] == 2 and kept[3] == 3
