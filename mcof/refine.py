"""Saliency-guided refinement of RegionNet regions (MCOF, iteration 1, single-class images).

RegionNet grows regions from the discriminative parts along features objects share, but parts
that look like nothing the seeds covered stay out. A saliency map knows nothing of classes but
covers whole objects. The two are merged in a Bayesian way, with two posteriors averaged
(the "Bayesian integration" of saliency cues, as in Xie et al., TIP 2013):

- saliency as prior, colour likelihoods of the RegionNet object region and of its complement;
- RegionNet's object probability as prior, colour likelihoods of the salient region
  (saliency >= twice its mean, the usual adaptive threshold) and of the rest.

Colour likelihoods are smoothed histograms over a quantised RGB cube. The posterior is averaged
inside each superpixel and thresholded. Where RegionNet is confident (object probability at or
above keep_object) the region stays an object whatever the saliency says: saliency misses object
parts that touch the border or look like the background, and RegionNet's confident regions are
its most reliable output.
"""

from __future__ import annotations

import numpy as np

from mcof.superpixels import region_means


def colour_bins(image: np.ndarray, bins_per_channel: int) -> np.ndarray:
    """uint8 [H, W, 3] -> int64 [H, W] index of the colour's cell in a quantised RGB cube."""
    q = (image.astype(np.int64) * bins_per_channel) // 256
    return (q[..., 0] * bins_per_channel + q[..., 1]) * bins_per_channel + q[..., 2]


def colour_likelihood(bins: np.ndarray, where: np.ndarray, n_bins: int,
                      smoothing: float = 1.0) -> np.ndarray:
    """float64 [n_bins]: p(colour cell | region) with additive (Laplace) smoothing."""
    counts = np.bincount(bins[where], minlength=n_bins).astype(np.float64) + smoothing
    return counts / counts.sum()


def bayes_posterior(prior: np.ndarray, bins: np.ndarray, foreground: np.ndarray, n_bins: int,
                    smoothing: float = 1.0) -> np.ndarray:
    """p(fg | colour) = prior p(c|fg) / (prior p(c|fg) + (1 - prior) p(c|bg)), per pixel.

    prior: float [H, W] in [0, 1]; foreground: bool [H, W] region whose colours define p(c|fg)
    (its complement defines p(c|bg)).
    """
    p_fg = colour_likelihood(bins, foreground, n_bins, smoothing)[bins]
    p_bg = colour_likelihood(bins, ~foreground, n_bins, smoothing)[bins]
    num = prior * p_fg
    den = num + (1.0 - prior) * p_bg
    return np.where(den > 0, num / np.maximum(den, 1e-12), 0.0)


def integrated_posterior(saliency: np.ndarray, object_prob: np.ndarray, object_mask: np.ndarray,
                         bins: np.ndarray, n_bins: int) -> np.ndarray:
    """Average of the two posteriors (saliency prior / RegionNet prior), float [H, W]."""
    salient = saliency >= min(2.0 * float(saliency.mean()), 1.0)
    by_saliency = bayes_posterior(saliency, bins, object_mask, n_bins)
    by_regions = bayes_posterior(object_prob, bins, salient, n_bins)
    return 0.5 * (by_saliency + by_regions)


MULTI_CLASS = ("keep", "saliency")


def refine_regions(image: np.ndarray, superpixels: np.ndarray, region_labels: np.ndarray,
                   region_scores: np.ndarray, saliency: np.ndarray, image_labels: list[int],
                   threshold: float, keep_object: float | None,
                   bins_per_channel: int = 8, multi_class: str = "keep") -> np.ndarray:
    """Refined superpixel labels uint8 [S] for one image.

    image uint8 [H, W, 3]; superpixels int [H, W]; region_labels uint8 [S] and region_scores
    float [S, K+1] from RegionNet; saliency float [H, W] in [0, 1]. keep_object None: saliency
    may also remove RegionNet objects.

    An image of several classes keeps RegionNet's labels (multi_class 'keep', the paper), or
    (multi_class 'saliency') is refined as one object, the union of its classes, whose refined
    regions each take the labelled class RegionNet scores highest there.
    """
    if multi_class not in MULTI_CLASS:
        raise ValueError(f"multi_class must be one of {', '.join(MULTI_CLASS)}, got {multi_class!r}")
    if not image_labels or (len(image_labels) > 1 and multi_class == "keep"):
        return np.asarray(region_labels, dtype=np.uint8).copy()
    scores = np.asarray(region_scores, dtype=np.float64)
    classes = np.asarray(image_labels)
    object_scores = scores[:, classes].sum(axis=1)
    object_prob = object_scores[superpixels]
    object_mask = (np.asarray(region_labels) != 0)[superpixels]
    n_bins = bins_per_channel**3
    posterior = integrated_posterior(saliency.astype(np.float64), object_prob, object_mask,
                                     colour_bins(image, bins_per_channel), n_bins)
    per_region = region_means(superpixels, posterior)
    best = classes[scores[:, classes].argmax(axis=1)].astype(np.uint8)
    refined = np.where(per_region >= threshold, best, 0).astype(np.uint8)
    if keep_object is not None:
        keep = object_scores >= keep_object
        refined[keep] = best[keep]
    return refined
