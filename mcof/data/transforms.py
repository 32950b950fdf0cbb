"""Augmentation for training: random scale, crop and flip of an image and its label map."""

from __future__ import annotations

import numpy as np
from PIL import Image

from mcof import IGNORE

PAD_COLOUR = np.array([0.485, 0.456, 0.406], dtype=np.float32)
"""Crops are padded with the ImageNet mean, which normalises to zero."""


def to_float(image: np.ndarray) -> np.ndarray:
    """uint8 [H, W, 3] -> float32 [3, H, W] in [0, 1]."""
    return np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32) / 255.0


def resize(array: np.ndarray, height: int, width: int, nearest: bool) -> np.ndarray:
    """Resize a uint8 image [H, W, 3] (bilinear) or label map [H, W] (nearest)."""
    if array.shape[:2] == (height, width):
        return array
    mode = Image.NEAREST if nearest else Image.BILINEAR
    return np.asarray(Image.fromarray(array).resize((width, height), mode))


def random_scale_crop(
    image: np.ndarray,
    label: np.ndarray | None,
    rng: np.random.Generator,
    scale_range: tuple[float, float],
    crop: int | None,
    flip: bool,
) -> tuple[np.ndarray, np.ndarray | None]:
    """float32 [3, c, c] image in [0, 1] and uint8 [c, c] label (255 on padding), c = crop.

    crop None keeps the whole rescaled image.
    """
    scale = rng.uniform(*scale_range)
    h, w = image.shape[:2]
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    image = resize(image, nh, nw, nearest=False)
    if label is not None:
        label = resize(label, nh, nw, nearest=True)
    if flip and rng.random() < 0.5:
        image = image[:, ::-1]
        label = None if label is None else label[:, ::-1]
    out = to_float(image)
    if crop is None:
        return out, None if label is None else np.ascontiguousarray(label)
    ph, pw = max(crop, nh), max(crop, nw)
    canvas = np.broadcast_to(PAD_COLOUR[:, None, None], (3, ph, pw)).copy()
    oy, ox = rng.integers(0, ph - nh + 1), rng.integers(0, pw - nw + 1)
    canvas[:, oy:oy + nh, ox:ox + nw] = out
    y, x = rng.integers(0, ph - crop + 1), rng.integers(0, pw - crop + 1)
    image_crop = canvas[:, y:y + crop, x:x + crop]
    if label is None:
        return np.ascontiguousarray(image_crop), None
    lab = np.full((ph, pw), IGNORE, dtype=np.uint8)
    lab[oy:oy + nh, ox:ox + nw] = label
    return np.ascontiguousarray(image_crop), np.ascontiguousarray(lab[y:y + crop, x:x + crop])
