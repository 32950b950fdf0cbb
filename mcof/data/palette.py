"""PASCAL VOC class names and colour palette, and label maps as palette PNGs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from mcof.files import atomic_path

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


def save_palette_png(mask: np.ndarray, path: str | Path) -> None:
    """uint8 [H, W] class ids -> an 8-bit PNG in the VOC palette (the evaluation servers' format)."""
    png = Image.fromarray(mask.astype(np.uint8), mode="P")
    png.putpalette(voc_palette().flatten().tolist())
    with atomic_path(path) as tmp:
        png.save(tmp, format="PNG")
