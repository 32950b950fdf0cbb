"""Rules seeds_from_cam (iteration 1) and seeds_from_masks (PixelNet's masks, later iterations)."""

from __future__ import annotations

import contextlib

import numpy as np

from mcof.artifacts import ArtifactReader, ArtifactWriter
from mcof.data.voc import DatasetIndex
from mcof.layout import CAMS, SEEDS, SUPERPIXELS, TRAIN_MASKS
from mcof.seeds import anchor_objects, keep_classes, seeds_from_cam, seeds_from_mask
from mcof.shards import shard_ids
from mcof.steps import optional_path
from mcof.superpixels import region_means


def make_cam_seeds(index: str, cams: str, superpixels: str, out: str, *, shard: int,
                   n_shards: int, object_threshold: float, local_max_min: float,
                   background_threshold: float, keep_every_class: bool = False,
                   cams_stage: str = CAMS) -> None:
    """Seeds of every image of the shard from its CAMs -> labels [S] (0, class, or 255).

    cams_stage: cams, or rw_cams (the CAMs spread by the random walk)."""
    dataset = DatasetIndex.load(index)
    params = {"source": "cam", "object_threshold": object_threshold,
              "local_max_min": local_max_min, "background_threshold": background_threshold,
              "keep_every_class": keep_every_class}
    with ArtifactReader(cams, cams_stage) as maps, ArtifactReader(superpixels, SUPERPIXELS) as sps, \
            ArtifactWriter(out, SEEDS, params) as seeds:
        for image_id in shard_ids(dataset.ids, shard, n_shards):
            seeds.write(image_id, labels=seeds_from_cam(
                sps.read(image_id, "labels").astype(np.int64), sps.read(image_id, "adjacency"),
                maps.read(image_id, "cams").astype(np.float32), maps.read(image_id, "classes"),
                object_threshold, local_max_min, background_threshold, keep_every_class))


def make_mask_seeds(index: str, masks: str, superpixels: str, out: str, *, shard: int,
                    n_shards: int, min_confidence: float = 0.0, min_share: float = 0.0,
                    anchor_multi_class: bool = False, keep_every_class: bool = False,
                    cam_seeds: str | list[str] | None = None,
                    cams: str | list[str] | None = None, masks_stage: str = TRAIN_MASKS,
                    cams_stage: str = CAMS) -> None:
    """Seeds of the next iteration: PixelNet masks projected onto superpixels by majority vote
    -> labels [S] (the confident regions, see seeds_from_mask) and votes [S] (every region's
    majority class with every pixel voting, for RegionNet's keep_mask_objects).

    anchor_multi_class: objects of multi-class images are anchored to iteration 1's CAM seeds
    (see mcof.seeds.anchor_objects). keep_every_class: a labelled class the masks lost gets its
    CAM seeds back, or the region of its highest mean CAM (mcof.seeds.keep_classes). Both need
    cam_seeds (iteration 1's seeds); keeping classes needs the CAMs too. masks_stage:
    train_masks, or rw_masks (spread by the random walk); cams_stage: cams or rw_cams.
    """
    dataset = DatasetIndex.load(index)
    cam_seeds, cams = optional_path(cam_seeds), optional_path(cams)
    if (anchor_multi_class or keep_every_class) and cam_seeds is None:
        raise ValueError("anchoring objects and keeping classes need iteration 1's seeds")
    if keep_every_class and cams is None:
        raise ValueError("keeping every class needs the CAMs")
    params = {"source": "pixelnet", "min_confidence": min_confidence, "min_share": min_share,
              "anchored": anchor_multi_class, "keep_every_class": keep_every_class}
    with contextlib.ExitStack() as stack:
        pixel_masks = stack.enter_context(ArtifactReader(masks, masks_stage))
        sps = stack.enter_context(ArtifactReader(superpixels, SUPERPIXELS))
        anchors = stack.enter_context(ArtifactReader(cam_seeds, SEEDS)) if cam_seeds else None
        maps = stack.enter_context(ArtifactReader(cams, cams_stage)) if keep_every_class else None
        seeds = stack.enter_context(ArtifactWriter(out, SEEDS, params))
        for image_id in shard_ids(dataset.ids, shard, n_shards):
            classes = dataset.labels[image_id]
            regions = sps.read(image_id, "labels").astype(np.int64)
            mask = pixel_masks.read(image_id, "mask")
            labels = seeds_from_mask(regions, mask, classes, dataset.n_classes,
                                     pixel_masks.read(image_id, "confidence"), min_confidence,
                                     min_share)
            votes = seeds_from_mask(regions, mask, classes, dataset.n_classes)
            if anchor_multi_class and len(classes) > 1:
                labels = anchor_objects(labels, anchors.read(image_id, "labels"))
            if keep_every_class and classes:
                mean_cam = region_means(regions, maps.read(image_id, "cams").astype(np.float32))
                labels = keep_classes(labels, classes, mean_cam.reshape(len(labels), -1),
                                      anchors.read(image_id, "labels"))
            seeds.write(image_id, labels=labels, votes=votes)
