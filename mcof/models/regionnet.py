"""RegionNet: a superpixel classifier that sees each region and its context.

A CNN computes feature maps over the whole image; each superpixel's feature is the average of a
map over the superpixel's pixels (masked average pooling, every pixel taking the feature of the
cell it falls in); a small MLP classifies it into background or an object class. All
superpixels of all images in a batch are pooled at once.

Two maps are pooled and concatenated (a hypercolumn): the last one, whose large receptive field
is the region's context, and a shallow stride-4 one, whose cells are small enough to tell a
region from its neighbour. With the deep map alone a thin background region along an object
shares its cells with the object and inherits its feature.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mcof.models.backbones import build_backbone, forward_with_tap


def masked_average_pool(features: torch.Tensor, superpixels: torch.Tensor,
                        offsets: torch.Tensor, n_regions: int) -> torch.Tensor:
    """Mean feature of every superpixel of every image, in one pass.

    features: float [B, C, h, w]; superpixels: int64 [B, H, W] region ids per image, -1 on
    padding; offsets: int64 [B] index of each image's first region in the output;
    n_regions: total number of regions R. Returns float [R, C].

    Pixel (y, x) takes the feature of cell (y * h // H, x * w // W): the mean over a region
    equals the mean of the nearest-upsampled feature map inside it. Pixels are first reduced to
    (region, cell) pairs with their counts, so the gather is over pairs, not pixels.
    """
    b, c, h, w = features.shape
    _, hh, ww = superpixels.shape
    dev = features.device
    ys = torch.arange(hh, device=dev) * h // hh
    xs = torch.arange(ww, device=dev) * w // ww
    cell = (torch.arange(b, device=dev)[:, None, None] * (h * w)
            + ys[None, :, None] * w + xs[None, None, :])
    valid = superpixels >= 0
    region = (superpixels + offsets[:, None, None])[valid]
    cells = b * h * w
    pairs, counts = torch.unique(region * cells + cell[valid], return_counts=True)
    pair_region, pair_cell = pairs // cells, pairs % cells
    flat = features.permute(0, 2, 3, 1).reshape(cells, c)
    sums = features.new_zeros((n_regions, c)).index_add_(
        0, pair_region, flat[pair_cell] * counts[:, None].to(features.dtype))
    sizes = torch.bincount(region, minlength=n_regions).clamp_min(1)
    return sums / sizes[:, None].to(features.dtype)


POOLED_MAPS = ("both", "deep", "shallow")


class RegionNet(nn.Module):
    """Backbone -> masked average pooling per superpixel -> MLP over background + K classes."""

    def __init__(self, n_classes: int, backbone: str = "tiny", weights: str = "none",
                 hidden: int = 256, dropout: float = 0.3, output_stride: int | None = None,
                 pooled: str = "both"):
        super().__init__()
        if pooled not in POOLED_MAPS:
            raise ValueError(f"pooled must be one of {', '.join(POOLED_MAPS)}, got {pooled!r}")
        bb = build_backbone(backbone, weights, output_stride)
        self.features, self.tap, self.pooled = bb.net, bb.tap, pooled
        width = {"deep": bb.out_channels, "shallow": bb.tap_channels,
                 "both": bb.out_channels + bb.tap_channels}[pooled]
        self.head = nn.Sequential(
            nn.Linear(width, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, n_classes))
        self.arch = {"kind": "regionnet", "n_classes": n_classes, "backbone": backbone,
                     "hidden": hidden, "dropout": dropout, "output_stride": bb.stride,
                     "pooled": pooled}

    def forward(self, images: torch.Tensor, superpixels: torch.Tensor,
                offsets: torch.Tensor, n_regions: int) -> torch.Tensor:
        """images float [B, 3, H, W] in [0, 1] -> logits [R, n_classes] for every region."""
        deep, shallow = forward_with_tap(self.features, images, self.tap,
                                         deep=self.pooled != "shallow")
        maps = {"deep": [deep], "shallow": [shallow], "both": [deep, shallow]}[self.pooled]
        pooled = torch.cat([masked_average_pool(m, superpixels, offsets, n_regions) for m in maps],
                           dim=1)
        return self.head(pooled.float())

    def param_groups(self) -> list[tuple[list[nn.Parameter], float]]:
        return [(list(self.features.parameters()), 1.0), (list(self.head.parameters()), 10.0)]




def merge_with_seeds(seeds, probs, override: float | None):
    """Final region labels and their confidence from seeds and RegionNet's probabilities.

    seeds: uint8 [S] (255 = unlabelled); probs: float [S, K+1] (numpy). override None: every
    region takes RegionNet's label (the paper). A number: labelled seeds are kept unless
    RegionNet gives another class at least that probability; kept seeds get confidence 1.
    Returns (labels uint8 [S], confidence float32 [S]).
    """
    import numpy as np

    predicted = probs.argmax(axis=1).astype(np.uint8)
    confidence = probs.max(axis=1).astype(np.float32)
    if override is None:
        return predicted, confidence
    keep = (seeds != 255) & ~((predicted != seeds) & (confidence >= override))
    return np.where(keep, seeds, predicted).astype(np.uint8), np.where(keep, 1.0, confidence).astype(np.float32)


def keep_voted_objects(labels, confidence, seeds, votes, probs, min_background: float):
    """Regions PixelNet called an object stay that object unless RegionNet is sure of background.

    labels, confidence: merge_with_seeds's result; seeds uint8 [S] (255 = unlabelled); votes
    uint8 [S]: every region's majority class in PixelNet's mask (mcof.seeds.seeds_from_mask with
    every pixel voting); probs float [S, K+1]. An unlabelled region voted object c that RegionNet
    labels background with background probability below min_background keeps c, with
    confidence 1 like a seed. RegionNet learns from the confident seeds and may still grow objects
    and correct classes; what it may not do without certainty is shrink them, which is how
    self-training loses objects an iteration at a time. Returns (labels, confidence).
    """
    import numpy as np

    keep = ((seeds == 255) & (votes != 0) & (votes != 255) & (labels == 0)
            & (probs[:, 0] < min_background))
    return (np.where(keep, votes, labels).astype(np.uint8),
            np.where(keep, 1.0, confidence).astype(np.float32))


def restrict_to_labels(logits: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """Probabilities [R, n_classes] with every class outside allowed [R, n_classes] (bool) at 0.

    A region can only be background or one of its image's labels.
    """
    return F.softmax(logits.float().masked_fill(~allowed, float("-inf")), dim=1)
