"""Rule refine_regions: saliency-guided refinement of iteration 1's RegionNet regions."""

from __future__ import annotations

import numpy as np

from mcof.artifacts import ArtifactReader, ArtifactWriter
from mcof.data.voc import DatasetIndex
from mcof.refine import refine_regions
from mcof.shards import shard_ids


def make_refined(index_path: str, superpixels_path: str, regions_path: str, saliency_path: str,
                 out_path: str, *, shard: int, n_shards: int, threshold: float,
                 keep_object: float | None, bins_per_channel: int) -> None:
    """Refined superpixel labels of the shard's images -> labels [S]."""
    index = DatasetIndex.load(index_path)
    params = {"threshold": threshold, "keep_object": keep_object,
              "bins_per_channel": bins_per_channel}
    with ArtifactReader(superpixels_path, "superpixels") as sps, \
            ArtifactReader(regions_path, "regions") as regions, \
            ArtifactReader(saliency_path, "saliency") as saliency, \
            ArtifactWriter(out_path, "refined", params) as out:
        for image_id in shard_ids(index.ids, shard, n_shards):
            refined = refine_regions(
                index.load_image(image_id), sps.read(image_id, "labels").astype(np.int64),
                regions.read(image_id, "labels"), regions.read(image_id, "scores"),
                saliency.read(image_id, "saliency").astype(np.float32), index.labels[image_id],
                threshold, keep_object, bins_per_channel)
            out.write(image_id, labels=refined)
