"""Initial seeds from CAM on superpixels, and seeds of later iterations from PixelNet masks.

Seeds are superpixel labels: uint8 [S], 0 = background, c = object class c, 255 = unlabelled.
"""

from __future__ import annotations

import numpy as np

from mcof import IGNORE
from mcof.superpixels import neighbour_max, region_majority, region_means


def seeds_from_cam(superpixels: np.ndarray, adjacency: np.ndarray, cams: np.ndarray,
                   classes: np.ndarray, object_threshold: float, local_max_min: float,
                   background_threshold: float, keep_every_class: bool = False) -> np.ndarray:
    """Label superpixels from their mean CAM.

    superpixels: int32 [H, W] region ids 0..S-1; adjacency: int [E, 2]; cams: float [n, H, W]
    in [0, 1] for the image's n labelled classes; classes: [n] their class ids.

    A region is an object seed of class c when its mean CAM of c is at least object_threshold,
    or is a local maximum among its neighbours' means and at least local_max_min; several
    candidate classes go to the one with the highest mean. A region is a background seed when
    every labelled class's mean CAM is below background_threshold. The rest is unlabelled (255).
    An image without labels is all background. keep_every_class: a labelled class with no seed
    gets the region of its highest mean CAM (see keep_classes).
    """
    n_regions = int(superpixels.max()) + 1
    if len(classes) == 0:
        return np.zeros(n_regions, dtype=np.uint8)
    means = region_means(superpixels, np.asarray(cams, dtype=np.float32)).reshape(n_regions, -1)
    local_max = means >= neighbour_max(means, adjacency)
    candidate = (means >= object_threshold) | (local_max & (means >= local_max_min))
    scored = np.where(candidate, means, -1.0)
    best = scored.argmax(axis=1)
    seeds = np.full(n_regions, IGNORE, dtype=np.uint8)
    is_object = scored.max(axis=1) >= 0
    seeds[is_object] = np.asarray(classes, dtype=np.uint8)[best[is_object]]
    seeds[~is_object & (means.max(axis=1) < background_threshold)] = 0
    if keep_every_class:
        seeds = keep_classes(seeds, [int(c) for c in classes], means)
    return seeds


def seeds_from_mask(superpixels: np.ndarray, mask: np.ndarray, classes: list[int], n_classes: int,
                    confidence: np.ndarray | None = None, min_confidence: float = 0.0,
                    min_share: float = 0.0) -> np.ndarray:
    """Project a pixel mask onto superpixels by majority vote among background and the labels.

    mask: uint8 [H, W] predicted classes (e.g. PixelNet's); classes: the image's labels.
    Votes for classes outside background + labels are discarded. With confidence (float
    [H, W], the predicted class's probability) only pixels at or above min_confidence vote, and
    a region is labelled only when its winning votes cover at least min_share of its pixels:
    the network's unsure parts are left for RegionNet to decide. A region without a label is
    unlabelled (255). Ties go to the lowest class id.
    """
    if confidence is not None and min_confidence > 0:
        mask = np.where(confidence >= min_confidence, mask, IGNORE)
    votes = region_majority(superpixels, mask, n_classes)
    allowed = np.zeros(n_classes, dtype=bool)
    allowed[[0, *classes]] = True
    votes[:, ~allowed] = 0
    seeds = votes.argmax(axis=1).astype(np.uint8)
    winning = votes.max(axis=1)
    sizes = np.bincount(superpixels.ravel(), minlength=len(seeds))
    seeds[(winning == 0) | (winning < min_share * sizes)] = IGNORE
    return seeds


def anchor_objects(seeds: np.ndarray, cam_seeds: np.ndarray) -> np.ndarray:
    """Objects of a multi-class image: keep only the CAM's object seeds, leave the rest of the
    projected objects unlabelled for RegionNet (background stays).

    Which object a region belongs to is what self-training gets wrong in multi-class images, and
    each iteration would learn from the last one's mistakes; the CAM seeds are fixed and precise.
    """
    out = np.where(seeds == 0, 0, IGNORE).astype(np.uint8)
    is_cam_object = (cam_seeds != 0) & (cam_seeds != IGNORE)
    out[is_cam_object] = cam_seeds[is_cam_object]
    return out


def keep_classes(seeds: np.ndarray, classes: list[int], region_scores: np.ndarray,
                 cam_seeds: np.ndarray | None = None) -> np.ndarray:
    """Every class the image's labels name keeps at least one seed region.

    seeds uint8 [S]; classes: the image's labels; region_scores float [S, len(classes)]: each
    region's score for each labelled class (its mean CAM, or RegionNet's probability);
    cam_seeds uint8 [S]: iteration 1's CAM seeds, or None. A labelled class without a seed gets
    its CAM seeds back (but never the last regions of another class: where the masks gave all of
    them to another class they stay), or else the region where its score is highest (preferring
    regions that are no other class's object seed, and never the last region of another class
    while some class holds two).
    Self-training loses the classes it is least sure of first, and the labels say they are there.
    """
    out = np.asarray(seeds, dtype=np.uint8).copy()
    for j, c in enumerate(classes):
        if (out == c).any():
            continue
        if cam_seeds is not None:
            restore = cam_seeds == c
            for d in classes:
                held = out == d
                if d != c and held.any() and not (held & ~restore).any():
                    restore &= ~held  # never the last regions of another class
            if restore.any():
                out[restore] = c
                continue
        scores = np.asarray(region_scores[:, j], dtype=np.float64).copy()
        taken = (out != 0) & (out != IGNORE)
        if taken.all():
            # every region is some class's seed: take one from a class that keeps another
            labels, counts = np.unique(out, return_counts=True)
            taken = np.isin(out, labels[counts == 1])
        if not taken.all():
            scores[taken] = -np.inf
        out[int(scores.argmax())] = c
    return out
