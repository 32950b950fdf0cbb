"""Feature extractors shared by the classifier, RegionNet and PixelNet.

Every backbone takes float images in [0, 1] (it normalises them itself) and returns a feature
map. `tiny` is a small CNN for CPU runs; `vgg16` and `resnet101` are torchvision's networks.
Pretrained weights: "none" (random init), "imagenet" (torchvision's weights, from its cache
under torch.hub.get_dir(); torchvision downloads them there once when they are absent) or the
path of a state-dict file of the torchvision model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BACKBONES = ("tiny", "vgg16", "resnet101")


class WeightsError(ValueError):
    """Pretrained weights cannot be found or do not fit the network."""


class Normalize(nn.Module):
    """[0, 1] RGB -> ImageNet-normalised input, inside the model so every caller agrees."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def conv_bn(c_in: int, c_out: int, stride: int = 1, dilation: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, stride, padding=dilation, dilation=dilation, bias=False),
            nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


def tiny_layers(width: int = 16, output_stride: int = 8) -> list[nn.Module]:
    """A 6-conv CNN with 8 * width channels that trains fast on 2 CPU cores.

    Output stride 8, or 4 without the second pooling (sharper CAMs at twice the cost); an
    Identity keeps the layer indices, so weights move between the two.
    """
    if output_stride not in (4, 8):
        raise ValueError(f"backbone tiny has output stride 4 or 8, not {output_stride}")
    w = width
    pool = nn.MaxPool2d(2) if output_stride == 8 else nn.Identity()
    return [*conv_bn(3, w, stride=2), *conv_bn(w, 2 * w), nn.MaxPool2d(2),
            *conv_bn(2 * w, 4 * w), *conv_bn(4 * w, 4 * w), pool,
            *conv_bn(4 * w, 8 * w), *conv_bn(8 * w, 8 * w, dilation=2)]


@dataclass(frozen=True)
class Backbone:
    """A built feature extractor: net = Sequential(Normalize, *layers).

    tap: index in net after which the shallow, stride-4 feature map (tap_channels channels) is
    taken for region features that need fine spatial detail.
    """

    net: nn.Sequential
    out_channels: int
    stride: int
    tap: int
    tap_channels: int


def forward_with_tap(net: nn.Sequential, x: torch.Tensor, tap: int,
                     deep: bool = True) -> tuple[torch.Tensor | None, torch.Tensor]:
    """Run the backbone; return (final features, features after layer `tap`).

    deep=False stops at the tap and returns None for the final features: a model that pools
    only the shallow map would otherwise pay for the deepest (and widest) layers for nothing.
    """
    shallow = None
    for i, layer in enumerate(net):
        x = layer(x)
        if i == tap:
            shallow = x
            if not deep:
                return None, shallow
    return x, shallow


def torchvision_weights(name: str):
    from torchvision.models import ResNet101_Weights, VGG16_Weights

    return {"vgg16": VGG16_Weights.IMAGENET1K_V1, "resnet101": ResNet101_Weights.IMAGENET1K_V1}[name]


def load_state_dict(name: str, weights: str) -> dict | None:
    """The torchvision state dict that `weights` names for backbone `name`, or None for "none"."""
    if weights in (None, "none"):
        return None
    if weights == "imagenet":
        if name == "tiny":
            raise WeightsError("backbone 'tiny' has no ImageNet weights; use weights: none or a file")
        try:
            return torchvision_weights(name).get_state_dict(progress=False)
        except OSError as err:
            cache = Path(torch.hub.get_dir()) / "checkpoints"
            raise WeightsError(
                f"ImageNet weights of {name} are not in torchvision's cache ({cache}) and could not "
                f"be downloaded: {err}. Put the file there or give its path as weights:") from err
    path = Path(weights)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    return state


def load_into(module: nn.Module, state: dict, name: str, weights: str) -> None:
    """Load a torchvision state dict, ignoring the classifier layers we do not use."""
    own = module.state_dict()
    usable = {k: v for k, v in state.items() if k in own}
    missing = [k for k in own if k not in usable and not k.endswith("num_batches_tracked")]
    if missing:
        raise WeightsError(
            f"weights {weights} do not fit backbone {name}: missing {len(missing)} tensors, "
            f"e.g. {missing[:3]}")
    for key, value in usable.items():
        if own[key].shape != value.shape:
            raise WeightsError(
                f"weights {weights} do not fit backbone {name}: {key} has shape "
                f"{tuple(value.shape)}, expected {tuple(own[key].shape)}")
    module.load_state_dict(usable, strict=False)


def vgg16_layers(dilate_conv5: bool) -> nn.Sequential:
    """torchvision VGG16 `features` without pool5.

    With dilate_conv5, pool4 keeps the resolution and conv5 uses dilation 2 (DeepLab), giving
    output stride 8 instead of 16; DeepLab also uses 3x3 max pools with padding 1.
    """
    from torchvision.models import vgg16

    layers = list(vgg16(weights=None).features.children())[:-1]
    if dilate_conv5:
        pools = [i for i, m in enumerate(layers) if isinstance(m, nn.MaxPool2d)]
        for i in pools:
            layers[i] = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        layers[pools[-1]] = nn.MaxPool2d(3, stride=1, padding=1)
        for m in layers[pools[-1] + 1:]:
            if isinstance(m, nn.Conv2d):
                m.dilation, m.padding = (2, 2), (2, 2)
    return nn.Sequential(*layers)


def resnet101_layers(output_stride: int, frozen_bn: bool) -> nn.Sequential:
    from torchvision.models import resnet101
    from torchvision.ops.misc import FrozenBatchNorm2d

    dilate = {8: [False, True, True], 16: [False, False, True]}[output_stride]
    kwargs = {"norm_layer": FrozenBatchNorm2d} if frozen_bn else {}
    net = resnet101(weights=None, replace_stride_with_dilation=dilate, **kwargs)
    return nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool,
                         net.layer1, net.layer2, net.layer3, net.layer4)


def _prefixed(state: dict, mapping: dict[str, str]) -> dict:
    """Rename state-dict keys by prefix, keeping only the mapped ones."""
    out = {}
    for key, value in state.items():
        for old, new in mapping.items():
            if key.startswith(old):
                out[new + key[len(old):]] = value
    return out


RESNET_PREFIXES = {"conv1.": "0.", "bn1.": "1.", "layer1.": "4.", "layer2.": "5.",
                   "layer3.": "6.", "layer4.": "7."}


def build_backbone(name: str, weights: str = "none", output_stride: int | None = None) -> Backbone:
    """Build a backbone; output_stride 8 dilates the last stages (DeepLab), None keeps the default.

    Defaults: tiny 8, vgg16 16 (conv5_3 without pool5), resnet101 16 (layer4 dilated).
    """
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    state = load_state_dict(name, weights)
    if name == "tiny":
        stride = output_stride or 8
        layers = tiny_layers(output_stride=stride)
        if state is not None:
            load_into(nn.Sequential(*layers), state, name, weights)
        # tap after the 4th conv block's ReLU (stride 4, 64 channels)
        return Backbone(nn.Sequential(Normalize(), *layers), 128, stride, tap=13, tap_channels=64)
    if name == "vgg16":
        stride = output_stride or 16
        layers = vgg16_layers(dilate_conv5=stride == 8)
        if state is not None:
            load_into(layers, _prefixed(state, {"features.": ""}), name, weights)
        # tap after conv3_3's ReLU (stride 4, 256 channels)
        return Backbone(nn.Sequential(Normalize(), *layers), 512, stride, tap=16, tap_channels=256)
    stride = output_stride or 16
    layers = resnet101_layers(stride, frozen_bn=state is not None)
    if state is not None:
        load_into(layers, _prefixed(state, RESNET_PREFIXES), name, weights)
    # tap after layer1 (stride 4, 256 channels)
    return Backbone(nn.Sequential(Normalize(), *layers), 2048, stride, tap=5, tap_channels=256)
