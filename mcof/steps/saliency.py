"""Rule saliency: built-in robust-background-detection maps or external PNG maps."""

from __future__ import annotations

import numpy as np

from mcof.artifacts import ArtifactWriter
from mcof.data.voc import DatasetIndex
from mcof.layout import SALIENCY
from mcof.saliency import find_external_maps, load_external_map, rbd_saliency
from mcof.shards import shard_ids

SALIENCY_METHODS = ("rbd", "external")


def make_saliency(index: str, out: str, *, shard: int, n_shards: int, method: str,
                  external_dir: str | None, pixels_per_region: int, compactness: float,
                  external_maps: list[str] | None = None) -> None:
    """Saliency map of every image of the shard -> saliency float16 [H, W] in [0, 1].

    external_maps: the external maps the rule declares (read instead of external_dir's files
    of the same names, so that staged copies are read).
    """
    if method not in SALIENCY_METHODS:
        raise ValueError(f"saliency method must be one of {', '.join(SALIENCY_METHODS)}, got {method!r}")
    dataset = DatasetIndex.load(index)
    ids = shard_ids(dataset.ids, shard, n_shards)
    external = None
    if method == "external":
        declared = list(external_maps) if external_maps else None
        external = find_external_maps(external_dir, ids, declared)
    params = {"method": method, "external_dir": external_dir,
              "pixels_per_region": pixels_per_region, "compactness": compactness}
    with ArtifactWriter(out, SALIENCY, params) as maps:
        for image_id in ids:
            image = dataset.load_image(image_id)
            if external is None:
                saliency = rbd_saliency(image, pixels_per_region, compactness)
            else:
                saliency = load_external_map(external[image_id], image_id, image.shape[:2])
            maps.write(image_id, saliency=saliency.astype(np.float16))
