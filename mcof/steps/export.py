"""Rule export_val_pngs: PixelNet's validation masks as VOC-palette PNGs (evaluation server format)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from mcof.artifacts import ArtifactReader
from mcof.data.palette import voc_palette


def save_palette_png(mask: np.ndarray, path: Path) -> None:
    png = Image.fromarray(mask.astype(np.uint8), mode="P")
    png.putpalette(voc_palette().flatten().tolist())
    png.save(path)


def export_val_pngs(mask_paths: list[str], out_dir: str) -> int:
    """Write <id>.png for every image of the val_masks shards; returns the count."""
    out = Path(out_dir)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with ArtifactReader(mask_paths, "val_masks") as masks:
        for image_id in masks:
            save_palette_png(masks.read(image_id, "mask"), tmp / f"{image_id}.png")
        count = len(masks.ids)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return count
