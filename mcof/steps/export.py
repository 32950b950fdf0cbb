"""Rules export_pngs, export_pseudo_labels and export_refined_labels: masks and region labels as
VOC-palette PNGs, the format of the evaluation servers and of other segmentation frameworks'
training labels (DeepLab, mmsegmentation: class ids as pixel values, 255 ignored)."""

from __future__ import annotations

import contextlib
import shutil

import numpy as np

from mcof.artifacts import ArtifactReader
from mcof.data.palette import save_palette_png
from mcof.files import atomic_path
from mcof.layout import REGION_STAGES, SUPERPIXELS
from mcof.superpixels import paint


def export_pngs(masks: list[str], out: str, *, stage: str, superpixels: list[str] = ()) -> int:
    """Write out/<id>.png for every image of a stage's shards; returns the count.

    A pixel stage's PNG is its mask (uint8 [H, W]); a region stage's (seeds, regions, refined)
    is its superpixel labels painted onto the superpixels (255 where a region is unlabelled).
    """
    with contextlib.ExitStack() as stack:
        reader = stack.enter_context(ArtifactReader(masks, stage))
        sps = None
        if stage in REGION_STAGES:
            sps = stack.enter_context(ArtifactReader(list(superpixels), SUPERPIXELS))
        tmp = stack.enter_context(atomic_path(out))
        tmp.mkdir()
        for image_id in reader:
            if sps is None:
                mask = reader.read(image_id, "mask")
            else:
                mask = paint(sps.read(image_id, "labels").astype(np.int64),
                             reader.read(image_id, "labels"))
            save_palette_png(mask, tmp / f"{image_id}.png")
        shutil.rmtree(out, ignore_errors=True)
        return len(reader.ids)
