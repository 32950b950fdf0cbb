"""Pixel affinities and the random walk that spreads class scores along them (the idea of
AffinityNet, Ahn & Kwak, CVPR 2018, and IRNet, Ahn et al., CVPR 2019).

A network maps an image to an embedding at a coarse stride; the affinity of two nearby cells is
exp(-mean |f_i - f_j|), near 1 inside an object and near 0 across its boundary. It learns from
confident labels only (pairs of the same class should be alike, of different classes not), and
since every object's boundary looks alike to it, it knows the extent of objects whose
discriminative parts the labels cover. A random walk with the transition matrix of the
affinities (raised to beta, row-normalised) then carries each class's score from its
discriminative part over the whole object, and no further.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mcof.models.backbones import build_backbone, forward_with_tap


def neighbour_offsets(radius: int) -> list[tuple[int, int]]:
    """Offsets (dy, dx) within radius, one of each +-pair (dy > 0, or dy == 0 and dx > 0)."""
    return [(dy, dx) for dy in range(0, radius + 1) for dx in range(-radius, radius + 1)
            if (dy > 0 or dx > 0) and dy * dy + dx * dx <= radius * radius]


def pair_indices(height: int, width: int, radius: int) -> tuple[torch.Tensor, torch.Tensor]:
    """int64 [P] index pairs (i, j) of cells at most radius apart on a height x width grid, each
    unordered pair once."""
    ys, xs = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    first, second = [], []
    for dy, dx in neighbour_offsets(radius):
        ok = (ys + dy < height) & (xs + dx >= 0) & (xs + dx < width)
        first.append((ys * width + xs)[ok])
        second.append(((ys + dy) * width + xs + dx)[ok])
    return torch.cat(first), torch.cat(second)


class AffinityNet(nn.Module):
    """Backbone (deep and shallow maps, concatenated at the shallow map's stride 4) -> 1x1
    convolutions -> an embedding of `dim` channels per cell."""

    def __init__(self, backbone: str = "tiny", weights: str = "none", dim: int = 64,
                 output_stride: int | None = None):
        super().__init__()
        bb = build_backbone(backbone, weights, output_stride)
        self.features, self.tap = bb.net, bb.tap
        self.embed = nn.Sequential(
            nn.Conv2d(bb.out_channels + bb.tap_channels, 128, 1, bias=False), nn.BatchNorm2d(128),
            nn.ReLU(inplace=True), nn.Conv2d(128, dim, 1))
        self.arch = {"kind": "affinity", "backbone": backbone, "dim": dim,
                     "output_stride": bb.stride}

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """float [B, 3, H, W] in [0, 1] -> embedding [B, dim, H / 4, W / 4]."""
        deep, shallow = forward_with_tap(self.features, images, self.tap)
        deep = F.interpolate(deep, size=shallow.shape[2:], mode="bilinear", align_corners=False)
        return self.embed(torch.cat([deep, shallow], dim=1))

    def param_groups(self) -> list[tuple[list[nn.Parameter], float]]:
        return [(list(self.features.parameters()), 1.0), (list(self.embed.parameters()), 10.0)]


def affinities(embedding: torch.Tensor, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """embedding [B, D, h, w] -> affinities [B, P] in (0, 1] of the cell pairs (first, second)."""
    flat = embedding.flatten(2)
    return torch.exp(-(flat[:, :, first] - flat[:, :, second]).abs().mean(dim=1))


def affinity_loss(affinity: torch.Tensor, labels: torch.Tensor, first: torch.Tensor,
                  second: torch.Tensor, ignore: int = 255) -> tuple[torch.Tensor, dict]:
    """AffinityNet's balanced loss over labelled pairs: background-background and
    object-object pairs of one class should have affinity 1, pairs of two classes 0; each of the
    three kinds weighs the same, whatever its count. labels int64 [B, h, w]."""
    flat = labels.flatten(1)
    a, b = flat[:, first], flat[:, second]
    labelled = (a != ignore) & (b != ignore)
    same = labelled & (a == b)
    kinds = {"bg_pos": same & (a == 0), "fg_pos": same & (a != 0), "neg": labelled & (a != b)}
    log_pos = torch.log(affinity.clamp_min(1e-5))
    log_neg = torch.log((1 - affinity).clamp_min(1e-5))
    losses = []
    for kind, mask in kinds.items():
        if mask.any():
            losses.append(-(log_neg if kind == "neg" else log_pos)[mask].mean())
    loss = torch.stack(losses).mean() if losses else affinity.sum() * 0
    counts = {kind: int(mask.sum()) for kind, mask in kinds.items()}
    return loss, counts


def transition_matrix(affinity: torch.Tensor, first: torch.Tensor, second: torch.Tensor,
                      n_cells: int, beta: float) -> torch.Tensor:
    """Row-stochastic [N, N] matrix of one image: affinity^beta to neighbours within the radius
    and 1 to the cell itself, each row divided by its sum."""
    matrix = torch.eye(n_cells, dtype=affinity.dtype, device=affinity.device)
    weights = affinity.pow(beta)
    matrix[first, second] = weights
    matrix[second, first] = weights
    return matrix / matrix.sum(dim=1, keepdim=True)


def random_walk(scores: torch.Tensor, transition: torch.Tensor, steps: int) -> torch.Tensor:
    """scores [C, N] spread over `steps` steps of the walk: scores @ T^steps (T row-stochastic,
    so the walk averages each cell's score over where it can reach). steps is rounded up to a
    power of two and done by squaring."""
    power = transition
    done = 1
    while done < steps:
        power = power @ power
        done *= 2
    return scores @ power.T
