"""A synthetic dataset in PASCAL VOC 2012 layout on which weak supervision is a real problem.

Each object class has a small, highly discriminative part (a "head" with a class-specific
two-colour pattern) attached to a larger body whose colour is only weakly class-specific (hues
of neighbouring classes overlap) and whose shape and texture are shared by all classes. A
classifier trained on image labels therefore fires on the head and misses much of the body, as
CAMs do on VOC. Backgrounds are muted and cluttered with distractors that belong to no class,
some of them headless bodies, so objects are salient but a saliency method is not perfect.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcof import IGNORE
from mcof.data.embedded import (
    EmbeddedSpec,
    boundary_band,
    object_count_probs,
    smooth_noise,
    write_voc_tree,
)

CLASS_NAMES = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
               "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma",
               "tau", "upsilon")
PATTERNS = ("checker", "rings", "stripes", "cross", "dots", "diagonal")


@dataclass(frozen=True)
class SyntheticSpec(EmbeddedSpec):
    """What to generate. Defaults give a dataset the whole pipeline runs on in minutes on a CPU."""

    n_classes: int = 6

    def __post_init__(self):
        super().__post_init__()
        if not 1 <= self.n_classes <= len(CLASS_NAMES):
            raise ValueError(f"n_classes must be in 1..{len(CLASS_NAMES)}, got {self.n_classes}")


def class_names(n_classes: int) -> list[str]:
    """Names of the synthetic dataset's classes, background first."""
    return ["background", *CLASS_NAMES[:n_classes]]


@dataclass(frozen=True)
class ClassLook:
    body_hue: float
    part_colors: tuple[tuple[float, float, float], tuple[float, float, float]]
    pattern: str


def class_looks(n_classes: int) -> list[ClassLook]:
    """Fixed appearance of each foreground class (index 0 is class 1)."""
    looks = []
    for c in range(n_classes):
        hue = c / n_classes
        a = colorsys.hsv_to_rgb((hue + 0.5) % 1.0, 0.9, 1.0)
        b = colorsys.hsv_to_rgb((hue + 0.25 + 0.37 * c) % 1.0, 0.8, 0.25 + 0.5 * (c % 2))
        looks.append(ClassLook(hue, (a, b), PATTERNS[c % len(PATTERNS)]))
    return looks


def _hsv_image(h, s, v) -> np.ndarray:
    """Vectorised HSV -> RGB for arrays in [0, 1]; returns float32 [..., 3]."""
    h = np.mod(h, 1.0) * 6.0
    s, v = np.clip(s, 0, 1), np.clip(v, 0, 1)
    i = np.floor(h).astype(int) % 6
    f = h - np.floor(h)
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.zeros(np.shape(h) + (3,), dtype=np.float32)
    for k, (r, g, b) in enumerate(choices):
        sel = i == k
        out[sel] = np.stack([np.broadcast_to(x, h.shape)[sel] for x in (r, g, b)], axis=-1)
    return out


def _blob(yy, xx, cy, cx, ry, rx, angle, wobble, phases) -> tuple[np.ndarray, np.ndarray]:
    """Mask of a rotated ellipse with a wavy outline, and the normalised radius of each pixel."""
    dy, dx = yy - cy, xx - cx
    ca, sa = np.cos(angle), np.sin(angle)
    u, w = (dx * ca + dy * sa) / rx, (-dx * sa + dy * ca) / ry
    theta = np.arctan2(w, u)
    outline = 1.0 + sum(a * np.cos((k + 2) * theta + p) for k, (a, p) in enumerate(zip(wobble, phases)))
    radius = np.sqrt(u * u + w * w) / outline
    return radius <= 1.0, radius


def _body_texture(rng, yy, xx, size) -> np.ndarray:
    """Value modulation in about [-1, 1] shared by all classes: stripes, spots or mottling."""
    kind = rng.integers(3)
    if kind == 0:
        period, angle = rng.uniform(5, 10), rng.uniform(0, np.pi)
        return np.sin(2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period)
    if kind == 1:
        return np.sign(smooth_noise(rng, size, max(4, size // 8))) * 0.8
    return smooth_noise(rng, size, max(4, size // 6))


def _part_pattern(pattern: str, yy, xx, cy, cx, r) -> np.ndarray:
    """bool [H, W]: where the head shows its first colour; the rest shows the second."""
    dy, dx = yy - cy, xx - cx
    cell = max(2.0, r / 2.5)
    if pattern == "checker":
        return (np.floor(dy / cell) + np.floor(dx / cell)) % 2 == 0
    if pattern == "rings":
        return np.floor(np.sqrt(dy * dy + dx * dx) / cell) % 2 == 0
    if pattern == "stripes":
        return np.floor(dx / cell) % 2 == 0
    if pattern == "cross":
        return (np.abs(dy) < r / 3) | (np.abs(dx) < r / 3)
    if pattern == "dots":
        return (np.mod(dy, 2 * cell) - cell) ** 2 + (np.mod(dx, 2 * cell) - cell) ** 2 < (cell * 0.7) ** 2
    return np.floor((dx + dy) / cell) % 2 == 0


def render_image(rng: np.random.Generator, spec: SyntheticSpec,
                 looks: list[ClassLook]) -> tuple[np.ndarray, np.ndarray]:
    """One sample: uint8 [S, S, 3] RGB image and uint8 [S, S] VOC-style mask (255 on outlines)."""
    s = spec.size
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)

    bg_hue = rng.uniform(0, 1) + 0.05 * smooth_noise(rng, s, 3)
    bg_sat = rng.uniform(0.05, 0.3) + 0.05 * smooth_noise(rng, s, 4)
    bg_val = rng.uniform(0.35, 0.7) + 0.15 * smooth_noise(rng, s, 4) + 0.05 * smooth_noise(rng, s, s // 4)
    image = _hsv_image(bg_hue, bg_sat, bg_val)
    mask = np.zeros((s, s), dtype=np.uint8)

    for _ in range(rng.integers(3, 8)):
        r = rng.uniform(0.03, 0.1) * s
        cy, cx = rng.uniform(0, s, 2)
        region, _ = _blob(yy, xx, cy, cx, r * rng.uniform(0.4, 1.6), r, rng.uniform(0, np.pi),
                          rng.uniform(0, 0.2, 2), rng.uniform(0, 6.3, 2))
        sat = rng.uniform(0.1, 0.9) if rng.random() < 0.5 else rng.uniform(0.0, 0.3)
        image[region] = _hsv_image(np.float32(rng.uniform()), np.float32(sat), np.float32(rng.uniform(0.2, 0.95)))
    if rng.random() < 0.35:
        _draw_body(rng, image, yy, xx, s, rng.uniform(), scale=0.55)

    n_objects = 1 + int(rng.choice(spec.max_objects, p=object_count_probs(spec.max_objects)))
    heads = []
    for _ in range(n_objects):
        label = int(rng.integers(spec.n_classes))
        body, (cy, cx, ry, rx, angle) = _draw_body(
            rng, image, yy, xx, s, looks[label].body_hue + rng.normal(0, 0.12))
        mask[body] = label + 1
        beta = rng.uniform(0, 2 * np.pi)
        u, w = np.cos(beta), np.sin(beta)
        dx = u * rx * np.cos(angle) - w * ry * np.sin(angle)
        dy = u * rx * np.sin(angle) + w * ry * np.cos(angle)
        heads.append((label, cy + 0.6 * dy, cx + 0.6 * dx, rng.uniform(0.06, 0.085) * s))
    # Heads go on top of every body so that each object keeps its discriminative part in view.
    for label, hy, hx, head_r in heads:
        look = looks[label]
        head = (yy - hy) ** 2 + (xx - hx) ** 2 <= head_r**2
        first = _part_pattern(look.pattern, yy, xx, hy, hx, head_r)
        image[head & first] = look.part_colors[0]
        image[head & ~first] = look.part_colors[1]
        mask[head] = label + 1

    image = np.clip(image + rng.normal(0, 0.02, image.shape).astype(np.float32), 0, 1)
    mask[boundary_band(mask)] = IGNORE
    return (image * 255 + 0.5).astype(np.uint8), mask


def _draw_body(rng, image, yy, xx, s, hue, scale=1.0):
    """Paint a textured body of the given hue; returns its mask and geometry."""
    ry, rx = rng.uniform(0.17, 0.3, 2) * s * scale
    cy, cx = rng.uniform(0.2, 0.8, 2) * s
    angle = rng.uniform(0, np.pi)
    wobble, phases = rng.uniform(0, 0.15, 2), rng.uniform(0, 6.3, 2)
    body, _ = _blob(yy, xx, cy, cx, ry, rx, angle, wobble, phases)
    texture = _body_texture(rng, yy, xx, s)
    sat = rng.uniform(0.45, 0.85) + 0.08 * texture
    val = rng.uniform(0.5, 0.9) + rng.uniform(0.05, 0.15) * texture
    image[body] = _hsv_image(np.full(body.sum(), hue, np.float32), sat[body], val[body])
    return body, (cy, cx, ry, rx, angle)


def write_synthetic_voc(root: str | Path, spec: SyntheticSpec) -> dict[str, list[str]]:
    """Write the dataset under root in VOC 2012 layout; returns the image ids of each split.

    Deterministic: the same spec writes byte-identical masks and lists.
    """
    rng = np.random.default_rng(spec.seed)
    looks = class_looks(spec.n_classes)
    return write_voc_tree(Path(root), spec.split_sizes(), lambda: render_image(rng, spec, looks), "syn",
                          spec.jpeg_quality)
