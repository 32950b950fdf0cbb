"""PASCAL VOC class names and colour palette."""

import numpy as np

VOC_CLASSES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)


def voc_palette() -> np.ndarray:
    """The 256-entry VOC palette as uint8 [256, 3] (bit-interleaved label index)."""
    palette = np.zeros((256, 3), dtype=np.uint8)
    for label in range(256):
        c, r, g, b = label, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        palette[label] = (r, g, b)
    return palette


def colorize(mask: np.ndarray) -> np.ndarray:
    """uint8 [H, W] label map -> uint8 [H, W, 3] RGB in the VOC palette."""
    return voc_palette()[mask]
