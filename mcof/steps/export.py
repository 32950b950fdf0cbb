"""Rule export_pngs: PixelNet's masks of a split as VOC-palette PNGs (evaluation server format)."""

from __future__ import annotations

import shutil

from mcof.artifacts import ArtifactReader
from mcof.data.palette import save_palette_png
from mcof.files import atomic_path


def export_pngs(masks: list[str], out: str, *, stage: str) -> int:
    """Write out/<id>.png for every image of a mask stage's shards; returns the count."""
    with ArtifactReader(masks, stage) as reader, atomic_path(out) as tmp:
        tmp.mkdir()
        for image_id in reader:
            save_palette_png(reader.read(image_id, "mask"), tmp / f"{image_id}.png")
        shutil.rmtree(out, ignore_errors=True)
        return len(reader.ids)
