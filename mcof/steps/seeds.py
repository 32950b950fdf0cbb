"""Rule seeds: CAM seeds in iteration 1, projected PixelNet masks in later iterations."""

from __future__ import annotations

import numpy as np

from mcof.artifacts import ArtifactReader, ArtifactWriter
from mcof.data.voc import DatasetIndex
from mcof.seeds import anchor_objects, seeds_from_cam, seeds_from_mask
from mcof.shards import shard_ids


def make_cam_seeds(index_path: str, cams_path: str, superpixels_path: str, out_path: str, *,
                   shard: int, n_shards: int, object_threshold: float, local_max_min: float,
                   background_threshold: float) -> None:
    """Seeds of every image of the shard from its CAMs -> labels [S] (0, class, or 255)."""
    index = DatasetIndex.load(index_path)
    params = {"source": "cam", "object_threshold": object_threshold,
              "local_max_min": local_max_min, "background_threshold": background_threshold}
    with ArtifactReader(cams_path, "cams") as cams, \
            ArtifactReader(superpixels_path, "superpixels") as sps, \
            ArtifactWriter(out_path, "seeds", params) as out:
        for image_id in shard_ids(index.ids, shard, n_shards):
            seeds = seeds_from_cam(
                sps.read(image_id, "labels").astype(np.int64), sps.read(image_id, "adjacency"),
                cams.read(image_id, "cams").astype(np.float32), cams.read(image_id, "classes"),
                object_threshold, local_max_min, background_threshold)
            out.write(image_id, labels=seeds)


def make_mask_seeds(index_path: str, masks_path: str, superpixels_path: str, out_path: str, *,
                    shard: int, n_shards: int, min_confidence: float = 0.0,
                    min_share: float = 0.0, cam_seeds_path: str | None = None) -> None:
    """Seeds of the next iteration: PixelNet masks projected onto superpixels by majority vote.

    With cam_seeds_path (iteration 1's seeds), objects of multi-class images are anchored to
    their CAM seeds (see mcof.seeds.anchor_objects).
    """
    index = DatasetIndex.load(index_path)
    params = {"source": "pixelnet", "min_confidence": min_confidence, "min_share": min_share,
              "anchored": cam_seeds_path is not None}
    cam_seeds = ArtifactReader(cam_seeds_path, "seeds") if cam_seeds_path else None
    try:
        with ArtifactReader(masks_path, "train_masks") as masks, \
                ArtifactReader(superpixels_path, "superpixels") as sps, \
                ArtifactWriter(out_path, "seeds", params) as out:
            for image_id in shard_ids(index.ids, shard, n_shards):
                seeds = seeds_from_mask(sps.read(image_id, "labels").astype(np.int64),
                                        masks.read(image_id, "mask"), index.labels[image_id],
                                        index.n_classes, masks.read(image_id, "confidence"),
                                        min_confidence, min_share)
                if cam_seeds is not None and len(index.labels[image_id]) > 1:
                    seeds = anchor_objects(seeds, cam_seeds.read(image_id, "labels"))
                out.write(image_id, labels=seeds)
    finally:
        if cam_seeds is not None:
            cam_seeds.close()
