"""Multi-label image classifier whose 1x1 classification layer gives class activation maps."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mcof.models.backbones import build_backbone


class Classifier(nn.Module):
    """Backbone -> 1x1 conv (one map per foreground class) -> global average pooling.

    Averaging after the linear 1x1 layer equals the linear layer after averaging, so the
    per-location scores are exactly the CAMs of Zhou et al. (2016).
    """

    def __init__(self, n_classes: int, backbone: str = "tiny", weights: str = "none",
                 output_stride: int | None = None):
        super().__init__()
        bb = build_backbone(backbone, weights, output_stride)
        self.features = bb.net
        self.stride = bb.stride
        self.classifier = nn.Conv2d(bb.out_channels, n_classes, 1, bias=False)
        nn.init.normal_(self.classifier.weight, std=0.01)
        self.arch = {"kind": "classifier", "n_classes": n_classes, "backbone": backbone,
                     "output_stride": bb.stride}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: float [B, 3, H, W] in [0, 1] -> logits [B, K]."""
        return self.class_maps(x).mean(dim=(2, 3))

    def class_maps(self, x: torch.Tensor) -> torch.Tensor:
        """Per-location class scores [B, K, H / stride, W / stride] (before ReLU)."""
        return self.classifier(self.features(x))

    def param_groups(self) -> list[tuple[list[nn.Parameter], float]]:
        """Backbone at the base learning rate, the new classification layer at 10x."""
        return [(list(self.features.parameters()), 1.0), (list(self.classifier.parameters()), 10.0)]


@torch.no_grad()
def compute_cams(model: Classifier, image: torch.Tensor, classes: list[int],
                 scales: tuple[float, ...] = (1.0,), flip: bool = True) -> torch.Tensor:
    """CAMs of the given classes for one image, at image size, each scaled to max 1.

    image: float [3, H, W] in [0, 1]; classes: 0-based foreground indices.
    Returns float32 [len(classes), H, W] in [0, 1]. Maps of several scales (and the mirrored
    image) are summed before normalisation, as in IRNet.
    """
    h, w = image.shape[1:]
    total = image.new_zeros((len(classes), h, w))
    if not classes:
        return total
    for scale in scales:
        size = (max(1, round(h * scale)), max(1, round(w * scale)))
        x = F.interpolate(image[None], size=size, mode="bilinear", align_corners=False)
        if flip:
            x = torch.cat([x, x.flip(-1)])
        maps = F.relu(model.class_maps(x)[:, classes])
        maps = F.interpolate(maps, size=(h, w), mode="bilinear", align_corners=False)
        total += maps[0] + (maps[1].flip(-1) if flip else 0)
    peak = total.flatten(1).max(dim=1).values.clamp_min(1e-5)
    return (total / peak[:, None, None]).float()
