"""Dense CRF refinement of class probabilities (Krähenbühl & Koltun, NIPS 2011).

A fully connected CRF with a Gaussian smoothness kernel and a bilateral (position and colour)
appearance kernel, Potts compatibility and mean-field inference, as DeepLab uses it to sharpen
its coarse predictions along image edges. MCOF uses it inside the loop too: on the labels
PixelNet trains on, and on PixelNet's training-set masks before they become the next seeds.

Two back ends:

- ``torch`` (built in, needs no compiler): the kernels are evaluated exactly, but only over a
  window of offsets around each pixel. The bilateral window is sparse (every d-th pixel, d chosen
  so the window spans two spatial standard deviations), in the manner of ConvCRF (Teichmann &
  Cipolla, 2018). Each kernel is normalised symmetrically, as pydensecrf does by default.
- ``pydensecrf``: pydensecrf2's permutohedral lattice (the ``crf`` extra, compiled at install).

Kernel widths are given for a reference image size and scaled to each image's longer side, so
one setting serves a 96-pixel image and a 500-pixel VOC photograph alike (``reference_size``
None keeps them in pixels).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

BACKENDS = ("torch", "pydensecrf")


class CRFUnavailable(RuntimeError):
    """The pydensecrf back end was asked for but pydensecrf2 is not installed."""


@dataclass(frozen=True)
class CRFSettings:
    """Widths in pixels at reference_size (scaled per image; None: in pixels as given); weights
    are Potts compatibilities. The defaults are DeepLab v2's for a 500-pixel photograph: those of
    config.yaml's crf keys (tests/test_crf.py holds the two together) and `mcof predict --crf`'s.
    """

    iterations: int = 5
    pos_xy_std: float = 3.0
    pos_weight: float = 3.0
    bi_xy_std: float = 80.0
    bi_rgb_std: float = 13.0
    bi_weight: float = 10.0
    reference_size: int | None = 500
    window: int = 11
    backend: str = "torch"

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ValueError(f"CRF backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")

    def widths(self, shape: tuple[int, int]) -> tuple[float, float]:
        """(smoothness, bilateral) spatial standard deviations in pixels for an image shape."""
        scale = max(shape) / self.reference_size if self.reference_size else 1.0
        return self.pos_xy_std * scale, self.bi_xy_std * scale


def kernel_settings(crf: dict) -> dict:
    """The CRFSettings of the config's crf section, without its switches (loop, final) and the
    label unary's label_confidence."""
    return {k: v for k, v in crf.items() if k in CRFSettings.__dataclass_fields__}


def dense_crf(image: np.ndarray, probs: np.ndarray, settings: CRFSettings = CRFSettings()) -> np.ndarray:
    """image uint8 [H, W, 3], probs float [C, H, W] summing to 1 over C -> refined float32 [C, H, W].

    Classes with probability 0 everywhere (excluded by the image labels) stay at 0.
    """
    if settings.backend == "pydensecrf":
        return _pydensecrf(image, probs, settings)
    return local_crf(image, probs, settings)


def _pydensecrf(image: np.ndarray, probs: np.ndarray, settings: CRFSettings) -> np.ndarray:
    try:
        import pydensecrf.densecrf as dcrf
    except ImportError as err:
        raise CRFUnavailable(
            "crf.backend is pydensecrf but pydensecrf2 is not installed: pip install "
            "'pydensecrf2==1.1' (the project's [crf] extra; it needs a C++ compiler), or use "
            "crf.backend: torch") from err
    n_classes, height, width = probs.shape
    pos_xy, bi_xy = settings.widths((height, width))
    crf = dcrf.DenseCRF2D(width, height, n_classes)
    allowed = probs.reshape(n_classes, -1).max(axis=1) > 0
    unary = -np.log(np.clip(probs, 1e-8, 1.0)).reshape(n_classes, -1)
    crf.setUnaryEnergy(np.ascontiguousarray(unary, dtype=np.float32))
    crf.addPairwiseGaussian(sxy=pos_xy, compat=settings.pos_weight)
    crf.addPairwiseBilateral(sxy=bi_xy, srgb=settings.bi_rgb_std,
                             rgbim=np.array(image, dtype=np.uint8, order="C"),
                             compat=settings.bi_weight)
    refined = np.asarray(crf.inference(settings.iterations), dtype=np.float32)
    refined = refined.reshape(n_classes, height, width)
    refined[~allowed] = 0.0
    return refined / refined.sum(axis=0, keepdims=True)


def window_offsets(radius: int, dilation: int) -> list[tuple[int, int]]:
    """(dy, dx) of a (2 radius + 1)^2 window sampled every `dilation` pixels, centre excluded."""
    return [(dy * dilation, dx * dilation) for dy in range(-radius, radius + 1)
            for dx in range(-radius, radius + 1) if (dy, dx) != (0, 0)]


class _Kernel:
    """One Gaussian kernel over a set of offsets, symmetrically normalised:
    message(Q) = n * sum_o w_o * shift(n * Q, o), n = 1 / sqrt(sum_o w_o).

    The weights of all offsets are computed at once from stacked views of the padded image; a
    message is one multiply-add per offset on a view of the padded Q (no copies).
    area[o]: how many pixels offset o stands for in a sparse window.
    """

    def __init__(self, image, offsets: list[tuple[int, int]], xy_std: float,
                 rgb_std: float | None, area: list[float] | None = None):
        import torch
        import torch.nn.functional as F

        self.offsets = offsets
        self.reach = r = max(max(abs(dy), abs(dx)) for dy, dx in offsets)
        h, w = image.shape[1:]
        views = [(r + dy, r + dx) for dy, dx in offsets]
        inside = F.pad(image.new_ones((h, w)), (r, r, r, r))
        weights = torch.stack([inside[y:y + h, x:x + w] for y, x in views])  # [O, H, W]
        spatial = torch.tensor([dy * dy + dx * dx for dy, dx in offsets], dtype=image.dtype)
        spatial = torch.exp(-spatial / (2 * xy_std * xy_std))
        if area is not None:
            spatial = spatial * torch.tensor(area, dtype=image.dtype)
        weights *= spatial[:, None, None]
        if rgb_std is not None:
            padded = F.pad(image, (r, r, r, r))
            partners = torch.stack([padded[:, y:y + h, x:x + w] for y, x in views])
            weights *= torch.exp(-((partners - image[None]) ** 2).sum(1) / (2 * rgb_std * rgb_std))
        self.weights = weights
        self.norm = weights.sum(0).clamp_min(1e-20).rsqrt()

    def __call__(self, q):
        import torch.nn.functional as F

        r, (h, w) = self.reach, q.shape[-2:]
        padded = F.pad(q * self.norm, (r, r, r, r))
        out = q.new_zeros(q.shape)
        for (dy, dx), weight in zip(self.offsets, self.weights):
            out.addcmul_(weight, padded[:, r + dy:r + dy + h, r + dx:r + dx + w])
        return out * self.norm


NEAR_RADIUS = 3


def bilateral_offsets(radius: int, xy_std: float) -> tuple[list[tuple[int, int]], list[float]]:
    """Offsets of the bilateral window and the pixel area each stands for.

    A (2 radius + 1)^2 grid spaced d = ceil(2 xy_std / radius) apart spans two standard
    deviations, each sample standing for d^2 pixels; where d > 1 the pixels nearest the centre
    (up to NEAR_RADIUS away) are sampled densely too, so that thin structures next to a pixel
    are not skipped.
    """
    d = max(1, math.ceil(2 * xy_std / radius))
    if d == 1:
        offsets = window_offsets(radius, 1)
        return offsets, [1.0] * len(offsets)
    near, far = window_offsets(min(d // 2, NEAR_RADIUS), 1), window_offsets(radius, d)
    return near + far, [1.0] * len(near) + [float(d * d)] * len(far)


def local_crf(image: np.ndarray, probs: np.ndarray, settings: CRFSettings) -> np.ndarray:
    """The torch back end (see the module docstring). Only the classes that have probability
    somewhere take part, so an image with two labels costs two or three classes, not K."""
    import torch

    pos_xy, bi_xy = settings.widths(image.shape[:2])
    img = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float()
    probs = np.asarray(probs, dtype=np.float32)
    allowed = probs.reshape(len(probs), -1).max(axis=1) > 0
    q = torch.from_numpy(probs[allowed]).clone()
    unary = -torch.log(q.clamp(1e-8, 1.0))
    offsets, area = bilateral_offsets(settings.window // 2, bi_xy)
    kernels = [
        (settings.pos_weight,
         _Kernel(img, window_offsets(max(1, math.ceil(2 * pos_xy)), 1), pos_xy, None)),
        (settings.bi_weight, _Kernel(img, offsets, bi_xy, settings.bi_rgb_std, area)),
    ]
    for _ in range(settings.iterations):
        energy = -unary
        for weight, kernel in kernels:
            energy = energy + weight * kernel(q)
        q = torch.softmax(energy, dim=0)
    out = np.zeros_like(probs)
    out[allowed] = q.numpy()
    return out


def label_unary(labels: np.ndarray, allowed: list[int], n_classes: int,
                label_confidence: float) -> np.ndarray:
    """float32 [C, H, W] probabilities for a CRF over hard labels uint8 [H, W].

    A labelled pixel gives its class label_confidence and shares the rest among the other
    allowed classes (background and the image's labels); an unlabelled pixel (255) is uniform
    over them; classes outside allowed get 0.
    """
    allowed = sorted(set(allowed))
    k = len(allowed)
    probs = np.zeros((n_classes,) + labels.shape, dtype=np.float32)
    if k == 1:
        probs[allowed[0]] = 1.0
        return probs
    rest = (1.0 - label_confidence) / (k - 1)
    unlabelled = ~np.isin(labels, allowed)
    for c in allowed:
        probs[c] = np.where(labels == c, label_confidence, rest)
        probs[c][unlabelled] = 1.0 / k
    return probs
