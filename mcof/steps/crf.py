"""Rule crf_labels: the regions PixelNet trains on, sharpened along image edges by the dense CRF."""

from __future__ import annotations

import numpy as np

from mcof.artifacts import ArtifactReader, ArtifactWriter
from mcof.crf import CRFSettings, dense_crf, label_unary
from mcof.data.voc import DatasetIndex
from mcof.layout import CRF_LABELS, SUPERPIXELS
from mcof.shards import shard_ids
from mcof.superpixels import paint


def make_crf_labels(index: str, labels: str, superpixels: str, out: str, *, label_stage: str,
                    shard: int, n_shards: int, crf: dict, label_confidence: float,
                    threads: int = 1) -> None:
    """Pixel labels of the shard's images -> mask uint8 [H, W], confidence float16 [H, W].

    The superpixel labels of label_stage (refined or RegionNet regions) are painted, turned into
    probabilities (mcof.crf.label_unary; unlabelled regions uniform) and refined by the CRF over
    background and the image's labels. Superpixels follow colour edges only as far as
    Felzenszwalb's merging does; the CRF moves a label to the edges the image shows.
    """
    from mcof.training.device import set_threads

    set_threads(threads)
    dataset = DatasetIndex.load(index)
    settings = CRFSettings(**crf)
    params = {"label_stage": label_stage, "crf": crf, "label_confidence": label_confidence}
    with ArtifactReader(labels, label_stage) as regions, \
            ArtifactReader(superpixels, SUPERPIXELS) as sps, \
            ArtifactWriter(out, CRF_LABELS, params) as masks:
        for image_id in shard_ids(dataset.ids, shard, n_shards):
            painted = paint(sps.read(image_id, "labels").astype(np.int64),
                            regions.read(image_id, "labels"))
            unary = label_unary(painted, [0, *dataset.labels[image_id]], dataset.n_classes,
                                label_confidence)
            probs = dense_crf(dataset.load_image(image_id), unary, settings)
            masks.write(image_id, mask=probs.argmax(axis=0).astype(np.uint8),
                        confidence=probs.max(axis=0).astype(np.float16))
