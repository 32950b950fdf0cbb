"""A second embedded dataset, of another make: objects and backgrounds cut from the real
photographs and textures that scikit-image ships (no download), in PASCAL VOC layout.

Five classes, each with its own kind of cue, unlike the synthetic set whose classes all share one
construction:

- cat: blob-shaped crops of the cat photograph (eyes and nose are the discriminative parts,
  fur the rest);
- coffee: blob-shaped crops of the coffee-cup photograph (cup rim, saucer);
- coin: the real coins of the coins photograph, each with its own outline, tinted like metal;
- face: the 100 faces of the LFW subset (each a different person), in an elliptic outline;
- horse: the horse silhouette filled with a texture that belongs to no class, so only its
  shape tells the class.

With outlines "blob" every object is cut in a random blob instead (the coins, faces and horses
too), so no class can be told by its shape: only appearance is left (the horse keeps its warm
tint and texture, a weak cue).

Backgrounds are tinted crops of the texture photographs (grass, gravel, brick, moon, text, ...);
distractors that belong to no class are cut from the other photographs and from LFW's
non-faces. Shapes of the blob classes say nothing about the class. Masks mark object outlines
with 255 as VOC does.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image

from mcof import IGNORE
from mcof.data.embedded import (
    EmbeddedSpec,
    boundary_band,
    object_count_probs,
    smooth_noise,
    write_voc_tree,
)

PHOTO_CLASSES = ("cat", "coffee", "coin", "face", "horse")
OUTLINES = ("own", "blob")


@dataclass(frozen=True)
class PhotoSpec(EmbeddedSpec):
    """What to generate; the defaults match the synthetic set's sizes. outlines: "own" (each
    class's own outline) or "blob" (every object a random blob)."""

    outlines: str = "own"
    MIN_SIZE: ClassVar[int] = 48

    def __post_init__(self):
        super().__post_init__()
        if self.outlines not in OUTLINES:
            raise ValueError(f"outlines must be one of {', '.join(OUTLINES)}, got {self.outlines!r}")


def photo_class_names() -> list[str]:
    return ["background", *PHOTO_CLASSES]


def _rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return image[..., :3]


@dataclass
class Sources:
    """The photographs, loaded once per process."""

    cat: np.ndarray
    coffee: np.ndarray
    coins: list[tuple[np.ndarray, np.ndarray]]
    faces: np.ndarray
    horse: np.ndarray
    textures: list[np.ndarray]
    clutter: list[np.ndarray]


@lru_cache(maxsize=1)
def load_sources() -> Sources:
    from scipy import ndimage
    from skimage import data, filters, measure
    from skimage.segmentation import watershed

    coins = data.coins()
    markers = np.zeros_like(coins)
    markers[coins < 30], markers[coins > 150] = 1, 2
    filled = ndimage.binary_fill_holes(watershed(filters.sobel(coins), markers) - 1)
    coin_list = []
    for region in measure.regionprops(measure.label(filled)):
        if region.area < 300:
            continue
        y0, x0, y1, x1 = region.bbox
        coin_list.append((coins[y0:y1, x0:x1], region.image))
    lfw = data.lfw_subset()
    motorcycle = data.stereo_motorcycle()[0]
    return Sources(
        cat=data.chelsea()[0:300, 40:420],
        coffee=data.coffee()[20:390, 90:560],
        coins=coin_list,
        faces=(lfw[:100] * 255).astype(np.uint8),
        horse=~data.horse(),
        textures=[_rgb(getattr(data, name)()) for name in
                  ("grass", "gravel", "brick", "moon", "text", "page", "clock", "cell")]
                 + [data.camera()[300:, :].repeat(1, 0)[..., None].repeat(3, 2),
                    data.hubble_deep_field()[:, :, :3]],
        clutter=[data.rocket(), motorcycle, data.immunohistochemistry(),
                 data.retina()[200:1200, 200:1200], data.astronaut(),
                 *[_rgb(x) for x in (lfw[100:] * 255).astype(np.uint8)]],
    )


def _resize(image: np.ndarray, h: int, w: int, nearest: bool = False) -> np.ndarray:
    mode = Image.NEAREST if nearest else Image.BILINEAR
    return np.asarray(Image.fromarray(image).resize((max(1, w), max(1, h)), mode))


def _crop(rng, image: np.ndarray, h: int, w: int, zoom: tuple[float, float]) -> np.ndarray:
    """A random window of image, zoom times the output's size (clipped to the image), resized
    to [h, w, 3], randomly mirrored."""
    ih, iw = image.shape[:2]
    z = rng.uniform(*zoom)
    ch, cw = min(ih, max(2, round(h * z))), min(iw, max(2, round(w * z)))
    y, x = rng.integers(0, ih - ch + 1), rng.integers(0, iw - cw + 1)
    out = _resize(_rgb(image[y:y + ch, x:x + cw]), h, w)
    return out[:, ::-1] if rng.random() < 0.5 else out


def _tint(rng, grey: np.ndarray, hue: float, sat: float) -> np.ndarray:
    """Colour a grey-level image float [H, W] in [0, 1] with one hue: float [H, W, 3]."""
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, sat, 1.0)
    return grey[..., None] * np.array([r, g, b], np.float32)


def _blob_mask(rng, h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    theta = np.arctan2((yy - cy) / max(h / 2, 1), (xx - cx) / max(w / 2, 1))
    outline = 1.0 + sum(rng.uniform(0, 0.15) * np.cos(k * theta + rng.uniform(0, 6.3))
                        for k in (2, 3))
    radius = np.sqrt(((yy - cy) / (h / 2)) ** 2 + ((xx - cx) / (w / 2)) ** 2)
    return radius <= 0.98 * outline


def _object(rng, src: Sources, label: int, s: int,
            outlines: str = "own") -> tuple[np.ndarray, np.ndarray]:
    """float [h, w, 3] appearance in [0, 1] and bool [h, w] outline of one object of class label
    (outlines "blob": a random blob whatever the class)."""
    look, outline = _own_object(rng, src, label, s)
    if outlines == "blob" and PHOTO_CLASSES[label] not in ("cat", "coffee"):
        outline = _blob_mask(rng, *outline.shape)
    return look, outline


def _own_object(rng, src: Sources, label: int, s: int) -> tuple[np.ndarray, np.ndarray]:
    name = PHOTO_CLASSES[label]
    side = rng.uniform(0.34, 0.6) * s
    h, w = (max(8, round(side * f)) for f in rng.uniform(0.75, 1.25, 2))
    if name in ("cat", "coffee"):
        photo = src.cat if name == "cat" else src.coffee
        look = _crop(rng, photo, h, w, (2.0, 6.0)).astype(np.float32) / 255
        return look, _blob_mask(rng, h, w)
    if name == "coin":
        grey, outline = src.coins[rng.integers(len(src.coins))]
        side = round(rng.uniform(0.25, 0.42) * s)
        grey = _resize(grey, side, side).astype(np.float32) / 255
        outline = _resize(outline.astype(np.uint8) * 255, side, side, nearest=True) > 127
        metal = rng.choice([0.11, 0.08, 0.0])  # gold, copper, silver
        return np.clip(_tint(rng, 0.35 + 0.9 * grey, metal, 0.55 if metal else 0.05), 0, 1), outline
    if name == "face":
        grey = _resize(src.faces[rng.integers(len(src.faces))], h, round(h * 0.85))
        look = _tint(rng, grey.astype(np.float32) / 255, rng.uniform(0.03, 0.08), rng.uniform(0.2, 0.5))
        yy, xx = np.mgrid[0:look.shape[0], 0:look.shape[1]].astype(np.float32)
        ry, rx = look.shape[0] / 2, look.shape[1] / 2
        return np.clip(look * 1.1, 0, 1), ((yy - ry + 0.5) / ry) ** 2 + ((xx - rx + 0.5) / rx) ** 2 <= 1
    silhouette = src.horse[:, ::-1] if rng.random() < 0.5 else src.horse
    ys, xs = np.nonzero(silhouette)
    silhouette = silhouette[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    hh = round(rng.uniform(0.4, 0.62) * s)
    ww = round(hh * silhouette.shape[1] / silhouette.shape[0] * rng.uniform(0.85, 1.15))
    outline = _resize(silhouette.astype(np.uint8) * 255, hh, min(ww, s - 2), nearest=True) > 127
    texture = _crop(rng, src.textures[rng.integers(len(src.textures))], *outline.shape, (1.0, 3.0))
    grey = texture.mean(axis=2).astype(np.float32) / 255
    return _tint(rng, 0.25 + 0.6 * grey, rng.uniform(0.02, 0.12), rng.uniform(0.3, 0.7)), outline


def _paste(canvas: np.ndarray, look: np.ndarray, outline: np.ndarray, y: int, x: int,
           mask: np.ndarray | None = None, label: int = 0) -> None:
    """Paste look inside outline with its top-left at (y, x), clipped to the canvas."""
    s_h, s_w = canvas.shape[:2]
    h, w = outline.shape
    y0, x0, y1, x1 = max(y, 0), max(x, 0), min(y + h, s_h), min(x + w, s_w)
    if y0 >= y1 or x0 >= x1:
        return
    sel = outline[y0 - y:y1 - y, x0 - x:x1 - x]
    canvas[y0:y1, x0:x1][sel] = look[y0 - y:y1 - y, x0 - x:x1 - x][sel]
    if mask is not None:
        mask[y0:y1, x0:x1][sel] = label


def render_photo(rng: np.random.Generator, spec: PhotoSpec,
                 src: Sources) -> tuple[np.ndarray, np.ndarray]:
    """One sample: uint8 [S, S, 3] RGB image and uint8 [S, S] VOC-style mask (255 on outlines)."""
    s = spec.size
    texture = _crop(rng, src.textures[rng.integers(len(src.textures))], s, s, (1.0, 4.0))
    grey = texture.astype(np.float32).mean(axis=2) / 255
    if rng.random() < 0.7:
        canvas = _tint(rng, 0.25 + 0.6 * grey, rng.uniform(), rng.uniform(0.05, 0.45))
    else:
        canvas = texture.astype(np.float32) / 255 * rng.uniform(0.6, 1.0)
    canvas *= (1.0 + 0.25 * smooth_noise(rng, s, 3))[..., None]
    mask = np.zeros((s, s), dtype=np.uint8)
    for _ in range(rng.integers(2, 6)):
        side = max(4, round(rng.uniform(0.08, 0.28) * s))
        h, w = side, max(4, round(side * rng.uniform(0.6, 1.6)))
        look = _crop(rng, src.clutter[rng.integers(len(src.clutter))], h, w, (1.0, 5.0))
        _paste(canvas, look.astype(np.float32) / 255, _blob_mask(rng, h, w),
               rng.integers(-h // 3, s - h // 2), rng.integers(-w // 3, s - w // 2))
    n_objects = 1 + int(rng.choice(spec.max_objects, p=object_count_probs(spec.max_objects)))
    for _ in range(n_objects):
        label = int(rng.integers(len(PHOTO_CLASSES)))
        look, outline = _object(rng, src, label, s, spec.outlines)
        h, w = outline.shape
        _paste(canvas, look, outline, rng.integers(-h // 6, s - 5 * h // 6 + 1),
               rng.integers(-w // 6, s - 5 * w // 6 + 1), mask, label + 1)
    image = np.clip(canvas + rng.normal(0, 0.02, canvas.shape).astype(np.float32), 0, 1)
    mask[boundary_band(mask)] = IGNORE
    return (image * 255 + 0.5).astype(np.uint8), mask


def write_photo_voc(root: str | Path, spec: PhotoSpec) -> dict[str, list[str]]:
    """Write the dataset under root in VOC 2012 layout; returns the image ids of each split."""
    src = load_sources()
    rng = np.random.default_rng(spec.seed)
    return write_voc_tree(Path(root), spec.split_sizes(), lambda: render_photo(rng, spec, src), "photo",
                          spec.jpeg_quality)
