"""Networks: backbones, the CAM classifier, RegionNet and PixelNet (DeepLab)."""

from __future__ import annotations


def build_model(arch: dict):
    """Build an untrained network from the arch dict a model file records."""
    from mcof.models.classifier import Classifier
    from mcof.models.deeplab import PixelNet
    from mcof.models.regionnet import RegionNet

    builders = {"classifier": Classifier, "regionnet": RegionNet, "pixelnet": PixelNet}
    kwargs = {k: v for k, v in arch.items() if k != "kind"}
    try:
        return builders[arch["kind"]](**kwargs)
    except KeyError:
        raise ValueError(f"unknown network kind {arch.get('kind')!r}") from None
