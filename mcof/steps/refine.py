"""Rule refine_regions: saliency-guided refinement of iteration 1's RegionNet regions."""

from __future__ import annotations

import numpy as np

from mcof.artifacts import ArtifactReader, ArtifactWriter
from mcof.data.voc import DatasetIndex
from mcof.layout import REFINED, REGIONS, SALIENCY, SUPERPIXELS
from mcof.refine import refine_regions
from mcof.shards import shard_ids


def make_refined(index: str, superpixels: str, regions: str, saliency: str, out: str, *,
                 shard: int, n_shards: int, threshold: float, keep_object: float | None,
                 bins_per_channel: int, multi_class: str = "keep") -> None:
    """Refined superpixel labels of the shard's images -> labels [S]."""
    dataset = DatasetIndex.load(index)
    params = {"threshold": threshold, "keep_object": keep_object,
              "bins_per_channel": bins_per_channel, "multi_class": multi_class}
    with ArtifactReader(superpixels, SUPERPIXELS) as sps, \
            ArtifactReader(regions, REGIONS) as region_labels, \
            ArtifactReader(saliency, SALIENCY) as maps, \
            ArtifactWriter(out, REFINED, params) as refined_out:
        for image_id in shard_ids(dataset.ids, shard, n_shards):
            refined = refine_regions(
                dataset.load_image(image_id), sps.read(image_id, "labels").astype(np.int64),
                region_labels.read(image_id, "labels"), region_labels.read(image_id, "scores"),
                maps.read(image_id, "saliency").astype(np.float32), dataset.labels[image_id],
                threshold, keep_object, bins_per_channel, multi_class)
            refined_out.write(image_id, labels=refined)
