"""Graph-based superpixels (Felzenszwalb & Huttenlocher 2004) and per-region statistics.

Everything here is vectorised over pixels (bincount, unique), never a Python loop per pixel.
"""

from __future__ import annotations

import numpy as np


def felzenszwalb_superpixels(image: np.ndarray, scale: float, sigma: float,
                             min_size: int) -> np.ndarray:
    """uint8 [H, W, 3] image -> int32 [H, W] region ids 0..S-1, each region 4-connected."""
    from skimage.segmentation import felzenszwalb
    from skimage.measure import label

    raw = felzenszwalb(image, scale=scale, sigma=sigma, min_size=min_size)
    # felzenszwalb can return a region in several pieces; split them so that "adjacent" and
    # "inside the region" mean what they say.
    return (label(raw, background=-1, connectivity=1) - 1).astype(np.int32)


def paint(superpixels: np.ndarray, region_labels: np.ndarray) -> np.ndarray:
    """Superpixel labels [S] -> pixel map [H, W] of the same dtype."""
    return np.asarray(region_labels)[superpixels]


def region_adjacency(labels: np.ndarray) -> np.ndarray:
    """int32 [E, 2] pairs (i < j) of regions sharing a horizontal or vertical pixel edge."""
    a = np.concatenate([labels[:, :-1].ravel(), labels[:-1, :].ravel()])
    b = np.concatenate([labels[:, 1:].ravel(), labels[1:, :].ravel()])
    differ = a != b
    pairs = np.stack([np.minimum(a, b)[differ], np.maximum(a, b)[differ]], axis=1)
    if pairs.size == 0:
        return np.zeros((0, 2), dtype=np.int32)
    return np.unique(pairs, axis=0).astype(np.int32)


def region_sizes(labels: np.ndarray, n_regions: int | None = None) -> np.ndarray:
    """int64 [S] pixel count of each region."""
    n = int(labels.max()) + 1 if n_regions is None else n_regions
    return np.bincount(labels.ravel(), minlength=n)


def region_means(labels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mean of values inside each region.

    values: [C, H, W] (or [H, W]) -> float64 [S, C] (or [S]).
    """
    flat = labels.ravel()
    n = int(flat.max()) + 1
    sizes = np.bincount(flat, minlength=n).astype(np.float64)
    if values.ndim == 2:
        return np.bincount(flat, weights=values.ravel(), minlength=n) / sizes
    c = values.shape[0]
    # one bincount over (channel, region) pairs instead of a loop over channels
    keys = (np.arange(c)[:, None] * n + flat[None, :]).ravel()
    sums = np.bincount(keys, weights=values.reshape(c, -1).ravel(), minlength=c * n)
    return (sums.reshape(c, n) / sizes).T


def neighbour_max(values: np.ndarray, adjacency: np.ndarray) -> np.ndarray:
    """For float [S, C] region values: the largest value among each region's neighbours.

    Regions without neighbours get -inf.
    """
    out = np.full(values.shape, -np.inf)
    if len(adjacency):
        a, b = adjacency[:, 0], adjacency[:, 1]
        np.maximum.at(out, a, values[b])
        np.maximum.at(out, b, values[a])
    return out


def region_majority(labels: np.ndarray, pixel_labels: np.ndarray, n_classes: int,
                    ignore: int = 255) -> np.ndarray:
    """int64 [S, n_classes] vote counts of pixel_labels inside each region (ignore not counted)."""
    flat, lab = labels.ravel(), pixel_labels.ravel().astype(np.int64)
    n = int(flat.max()) + 1
    keep = lab != ignore
    keys = flat[keep] * n_classes + lab[keep]
    return np.bincount(keys, minlength=n * n_classes).reshape(n, n_classes)
