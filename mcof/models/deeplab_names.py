"""PixelNet architecture names, importable without torch (the config checks use them)."""

PIXELNET_ARCHS = ("tiny", "deeplab_largefov", "deeplab_v2")
BACKBONE_OF = {"tiny": "tiny", "deeplab_largefov": "vgg16", "deeplab_v2": "resnet101"}
