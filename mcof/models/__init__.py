"""Networks: backbones, the CAM classifier, RegionNet and PixelNet (DeepLab)."""

from __future__ import annotations

# Importable without torch (the config checks use them).
PIXELNET_ARCHS = ("tiny", "deeplab_largefov", "deeplab_v2")
BACKBONE_OF = {"tiny": "tiny", "deeplab_largefov": "vgg16", "deeplab_v2": "resnet101"}
"""The backbone of each PixelNet architecture, for starting it from a classifier."""


def build_model(arch: dict):
    """Build an untrained network from the arch dict a model file records."""
    from mcof.models.affinity import AffinityNet
    from mcof.models.classifier import Classifier
    from mcof.models.deeplab import PixelNet
    from mcof.models.regionnet import RegionNet

    builders = {"classifier": Classifier, "regionnet": RegionNet, "pixelnet": PixelNet,
                "affinity": AffinityNet}
    kwargs = {k: v for k, v in arch.items() if k != "kind"}
    try:
        return builders[arch["kind"]](**kwargs)
    except KeyError:
        raise ValueError(f"unknown network kind {arch.get('kind')!r}") from None
