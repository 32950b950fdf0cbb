"""PixelNet: the segmentation network, DeepLab-LargeFOV (VGG16), DeepLab v2 (ResNet-101) or tiny.

Every variant has output stride 8; forward returns logits upsampled to the input size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mcof.models.backbones import build_backbone, forward_with_tap
from mcof.models import PIXELNET_ARCHS

TINY_STRIDE2_TAP, TINY_STRIDE2_CHANNELS = 6, 32  # ReLU of the tiny backbone's second conv


class LargeFOVHead(nn.Module):
    """DeepLab-LargeFOV after conv5: pool5 and avg-pool (3x3, stride 1), fc6 as a 3x3
    convolution with dilation 12, fc7 1x1, dropout, and the 1x1 classifier fc8."""

    def __init__(self, c_in: int, n_classes: int, width: int = 1024, dilation: int = 12,
                 pools: bool = True):
        super().__init__()
        pre = [nn.MaxPool2d(3, 1, 1), nn.AvgPool2d(3, 1, 1)] if pools else []
        self.body = nn.Sequential(
            *pre,
            nn.Conv2d(c_in, width, 3, padding=dilation, dilation=dilation), nn.ReLU(inplace=True),
            nn.Dropout2d(0.5),
            nn.Conv2d(width, width, 1), nn.ReLU(inplace=True), nn.Dropout2d(0.5))
        self.classifier = nn.Conv2d(width, n_classes, 1)
        nn.init.normal_(self.classifier.weight, std=0.01)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.body(x))


class ASPP(nn.Module):
    """DeepLab v2 atrous spatial pyramid pooling: parallel 3x3 classifiers at rates 6-24, summed."""

    def __init__(self, c_in: int, n_classes: int, rates: tuple[int, ...] = (6, 12, 18, 24)):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Conv2d(c_in, n_classes, 3, padding=r, dilation=r) for r in rates)
        for conv in self.branches:
            nn.init.normal_(conv.weight, std=0.01)
            nn.init.zeros_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return sum(branch(x) for branch in self.branches)


class TinyDecoder(nn.Module):
    """Stride-8 features -> logits at stride 2, guided by the backbone's stride-2 features.

    On the small images of the CPU default, stride-8 logits are a 12x12 grid and boundaries are
    lost in the upsampling; one light decoder step (as in DeepLab v3+) recovers them cheaply.
    """

    def __init__(self, c_deep: int, c_shallow: int, n_classes: int, width: int = 32):
        super().__init__()
        self.reduce = nn.Sequential(nn.Conv2d(c_deep, width, 1, bias=False), nn.BatchNorm2d(width),
                                    nn.ReLU(inplace=True))
        self.fuse = nn.Sequential(
            nn.Conv2d(width + c_shallow, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
            nn.ReLU(inplace=True), nn.Conv2d(width, n_classes, 1))

    def forward(self, deep: torch.Tensor, shallow: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(self.reduce(deep), size=shallow.shape[2:], mode="bilinear",
                           align_corners=False)
        return self.fuse(torch.cat([up, shallow], dim=1))


class PixelNet(nn.Module):
    """arch: 'deeplab_largefov' (VGG16), 'deeplab_v2' (ResNet-101 + ASPP) or 'tiny' (CPU)."""

    def __init__(self, n_classes: int, arch: str = "tiny", weights: str = "none"):
        super().__init__()
        if arch == "deeplab_largefov":
            bb = build_backbone("vgg16", weights, output_stride=8)
            head = LargeFOVHead(bb.out_channels, n_classes)
        elif arch == "deeplab_v2":
            bb = build_backbone("resnet101", weights, output_stride=8)
            head = ASPP(bb.out_channels, n_classes)
        elif arch == "tiny":
            bb = build_backbone("tiny", weights, output_stride=8)
            head = nn.Sequential(
                nn.Conv2d(bb.out_channels, 128, 3, padding=2, dilation=2), nn.ReLU(inplace=True),
                nn.Dropout2d(0.3), nn.Conv2d(128, 128, 1), nn.ReLU(inplace=True))
            self.decoder = TinyDecoder(128, TINY_STRIDE2_CHANNELS, n_classes)
        else:
            raise ValueError(f"unknown PixelNet arch {arch!r}; choose one of {', '.join(PIXELNET_ARCHS)}")
        self.features, self.head = bb.net, head
        self.stride = bb.stride
        self.arch = {"kind": "pixelnet", "n_classes": n_classes, "arch": arch}

    def coarse_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits before the final upsampling: stride 8 (DeepLab) or 2 (tiny's decoder)."""
        if self.arch["arch"] == "tiny":
            deep, shallow = forward_with_tap(self.features, x, TINY_STRIDE2_TAP)
            return self.decoder(self.head(deep), shallow)
        return self.head(self.features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x float [B, 3, H, W] in [0, 1] -> logits [B, n_classes, H, W]."""
        return F.interpolate(self.coarse_logits(x), size=x.shape[2:], mode="bilinear",
                             align_corners=False)

    def param_groups(self) -> list[tuple[list[nn.Parameter], float]]:
        new = [p for name, p in self.named_parameters() if not name.startswith("features.")]
        return [(list(self.features.parameters()), 1.0), (new, 10.0)]


@torch.no_grad()
def predict_logits(model: PixelNet, image: torch.Tensor, flip: bool = True) -> torch.Tensor:
    """float [3, H, W] -> logits [n_classes, H, W], averaged with the mirrored image."""
    x = image[None]
    if flip:
        x = torch.cat([x, x.flip(-1)])
    logits = model(x).float()
    return (logits[0] + logits[1].flip(-1)) / 2 if flip else logits[0]
