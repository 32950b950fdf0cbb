"""Rule superpixels."""

from __future__ import annotations

import numpy as np

from mcof.artifacts import ArtifactWriter
from mcof.data.voc import DatasetIndex
from mcof.layout import SUPERPIXELS
from mcof.shards import shard_ids
from mcof.superpixels import felzenszwalb_superpixels, region_adjacency


def compact_ids(labels: np.ndarray) -> np.ndarray:
    """Store region ids in 16 bits when they fit (they always do at VOC size)."""
    return labels.astype(np.uint16) if labels.max() < 65535 else labels.astype(np.int32)


def make_superpixels(index: str, out: str, *, shard: int, n_shards: int, scale: float,
                     sigma: float, min_size: int) -> None:
    """Felzenszwalb superpixels of every image of the shard -> labels [H, W], adjacency [E, 2]."""
    dataset = DatasetIndex.load(index)
    params = {"scale": scale, "sigma": sigma, "min_size": min_size}
    with ArtifactWriter(out, SUPERPIXELS, params) as regions:
        for image_id in shard_ids(dataset.ids, shard, n_shards):
            labels = felzenszwalb_superpixels(dataset.load_image(image_id), scale, sigma, min_size)
            regions.write(image_id, labels=compact_ids(labels), adjacency=region_adjacency(labels))
