"""What the two embedded datasets (synthetic shapes, scikit-image photographs) share: their sizes,
their VOC-layout writer, and a few drawing helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image
from scipy import ndimage

from mcof.data.palette import voc_palette


@dataclass(frozen=True)
class EmbeddedSpec:
    """How many images of each split, their side in pixels, objects per image at most, the
    generator's seed. Splits are drawn in the order train, val, test."""

    n_train: int = 400
    n_val: int = 150
    n_test: int = 150
    size: int = 96
    max_objects: int = 3
    seed: int = 0
    jpeg_quality: int = 90
    MIN_SIZE: ClassVar[int] = 32

    def __post_init__(self):
        if self.size < self.MIN_SIZE:
            raise ValueError(f"size must be at least {self.MIN_SIZE} pixels, got {self.size}")
        if self.n_train < 1 or self.n_val < 1 or self.n_test < 0:
            raise ValueError("n_train and n_val must be at least 1, n_test at least 0")
        if self.max_objects < 1:
            raise ValueError("max_objects must be at least 1")

    def split_sizes(self) -> dict[str, int]:
        return {"train": self.n_train, "val": self.n_val, "test": self.n_test}


def smooth_noise(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    """float32 [size, size] noise in about [-1, 1], smooth over size / cells pixels."""
    grid = rng.uniform(-1, 1, (cells + 1, cells + 1))
    return ndimage.zoom(grid, size / (cells + 1), order=3, mode="nearest")[:size, :size].astype(
        np.float32
    )


def boundary_band(mask: np.ndarray) -> np.ndarray:
    """Object pixels that touch a pixel of another label (4-neighbourhood): VOC's 255 band."""
    band = np.zeros(mask.shape, dtype=bool)
    band[1:] |= mask[1:] != mask[:-1]
    band[:-1] |= mask[:-1] != mask[1:]
    band[:, 1:] |= mask[:, 1:] != mask[:, :-1]
    band[:, :-1] |= mask[:, :-1] != mask[:, 1:]
    return band & (mask != 0)


def object_count_probs(max_objects: int) -> np.ndarray:
    p = np.array([0.55, 0.3, 0.15, 0.08, 0.04, 0.02][:max_objects] + [0.01] * max(0, max_objects - 6))
    return p / p.sum()


def write_voc_tree(root: Path, counts: dict[str, int], render: Callable, prefix: str,
                   jpeg_quality: int) -> dict[str, list[str]]:
    """Write render()'s (image, mask) samples under root in VOC 2012 layout, split by split in
    the order of counts; returns the image ids of each split (a split of 0 images gets no list).

    Splits are drawn one after another from the same generator, so adding a later split leaves
    the earlier ones byte-identical.
    """
    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    palette = voc_palette().flatten().tolist()
    splits: dict[str, list[str]] = {}
    index = 0
    for split, count in counts.items():
        if count == 0:
            continue
        splits[split] = []
        for _ in range(count):
            image_id = f"{prefix}_{index:06d}"
            index += 1
            image, mask = render()
            Image.fromarray(image).save(root / "JPEGImages" / f"{image_id}.jpg", quality=jpeg_quality)
            png = Image.fromarray(mask, mode="P")
            png.putpalette(palette)
            png.save(root / "SegmentationClass" / f"{image_id}.png")
            splits[split].append(image_id)
        (root / "ImageSets" / "Segmentation" / f"{split}.txt").write_text(
            "".join(f"{i}\n" for i in splits[split]))
    return splits


