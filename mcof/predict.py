"""Segmenting new images with a trained PixelNet (the `mcof predict` command)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from mcof.crf import CRFSettings, dense_crf
from mcof.data.palette import colorize, save_palette_png
from mcof.data.transforms import to_float
from mcof.data.voc import load_image
from mcof.models.deeplab import predict_logits
from mcof.training.checkpoint import load_model
from mcof.training.device import choose_device

log = logging.getLogger(__name__)


def overlay(image: np.ndarray, mask: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """uint8 [H, W, 3]: the image with object pixels tinted in their VOC palette colour."""
    colour = colorize(mask).astype(np.float32)
    out = image.astype(np.float32)
    objects = mask > 0
    out[objects] = (1 - alpha) * out[objects] + alpha * colour[objects]
    return out.astype(np.uint8)


def scaled_size(height: int, width: int, scale: float) -> tuple[int, int]:
    """The image size a test scale runs at (at least 1 px a side)."""
    return max(1, round(height * scale)), max(1, round(width * scale))


@torch.no_grad()
def class_probabilities(model, image: np.ndarray, device: torch.device, flip: bool = True,
                        allowed: list[int] | None = None, crf: CRFSettings | None = None,
                        scales: tuple[float, ...] | list[float] = (1.0,)) -> torch.Tensor:
    """PixelNet's class probabilities [C, H, W] for one uint8 [H, W, 3] image.

    scales: the image is resized (bilinear) by each factor; each scale's logits, averaged with
    the mirrored image's when flip is set, are resized back to H x W, turned into probabilities,
    and the probabilities are averaged over the scales ([1.0]: one scale, the plain prediction).
    allowed: the only classes that may be predicted (the others get probability 0);
    crf: refine with a dense CRF. Shared by the predict_pixelnet rule and `mcof predict`.
    """
    if not scales or min(scales) <= 0:
        raise ValueError(f"test scales must be positive, got {list(scales)}")
    x = torch.from_numpy(to_float(image)).to(device)
    height, width = x.shape[1:]
    keep = None
    probs = None
    for scale in scales:
        size = scaled_size(height, width, scale)
        scaled = x if size == (height, width) else F.interpolate(
            x[None], size=size, mode="bilinear", align_corners=False)[0]
        logits = predict_logits(model, scaled, flip)
        if logits.shape[1:] != (height, width):
            logits = F.interpolate(logits[None], size=(height, width), mode="bilinear",
                                   align_corners=False)[0]
        if allowed is not None:
            if keep is None:
                keep = torch.zeros(logits.shape[0], dtype=torch.bool, device=logits.device)
                keep[allowed] = True
            logits = logits.masked_fill(~keep[:, None, None], float("-inf"))
        p = F.softmax(logits, dim=0)
        probs = p if probs is None else probs + p
    probs = probs / len(scales)
    if crf is not None:
        probs = torch.from_numpy(dense_crf(image, probs.cpu().numpy(), crf))
    return probs


@torch.no_grad()
def predict_images(checkpoint: str, images: list[str], out_dir: str, *, overlays: bool = False,
                   flip: bool = True, device: str = "auto", crf: bool = False,
                   scales: tuple[float, ...] | list[float] = (1.0,)) -> list[Path]:
    """Write <stem>.png (class ids, VOC palette) and optionally <stem>_overlay.jpg per image;
    crf: refine with the workflow's dense CRF (DeepLab v2's widths scaled to the image);
    scales: multi-scale inference (see class_probabilities)."""
    dev = choose_device(device)
    model = load_model(checkpoint, "pixelnet").to(dev).eval()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in map(Path, images):
        image = load_image(path, path.stem)
        probs = class_probabilities(model, image, dev, flip, crf=CRFSettings() if crf else None,
                                    scales=scales)
        mask = probs.argmax(dim=0).to(torch.uint8).cpu().numpy()
        target = out / f"{path.stem}.png"
        save_palette_png(mask, target)
        written.append(target)
        if overlays:
            Image.fromarray(overlay(image, mask)).save(out / f"{path.stem}_overlay.jpg", quality=90)
        log.info("%s -> %s (%d classes present)", path, target, len(np.unique(mask)))
    return written
