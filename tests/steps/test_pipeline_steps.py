"""Each step of iteration 1 and the seeds of iteration 2, called directly on the tiny chain."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from mcof import IGNORE
from mcof.artifacts import ArtifactReader
from mcof.data.voc import DatasetIndex
from mcof.layout import CAMS, REFINED, REGIONS, SALIENCY, SEEDS, SUPERPIXELS, TRAIN_MASKS, VAL_MASKS


def read_all(path, stage, name):
    with ArtifactReader(path, stage) as reader:
        return {i: reader.read(i, name) for i in reader}


def test_cams_cover_exactly_the_labelled_classes(chain):
    index = DatasetIndex.load(chain["index"])
    with ArtifactReader(chain["cams"], CAMS) as cams:
        assert sorted(cams.ids) == sorted(index.ids)
        for image_id in index.ids:
            maps, classes = cams.read(image_id, "cams"), cams.read(image_id, "classes")
            assert classes.tolist() == index.labels[image_id]
            assert maps.shape == (len(classes), 48, 48)
            peaks = maps.reshape(len(classes), -1).max(1)  # each map scaled to peak 1 (or all 0)
            assert np.all(np.isclose(peaks, 1.0, atol=1e-3) | (peaks == 0))


def test_superpixels_number_regions_densely(chain):
    with h5py.File(chain["superpixels"]) as f:
        assert f.attrs["stage"] == SUPERPIXELS
    for labels in read_all(chain["superpixels"], SUPERPIXELS, "labels").values():
        assert labels.dtype == np.uint16
        assert set(np.unique(labels)) == set(range(int(labels.max()) + 1))


def test_saliency_maps_are_in_unit_range(chain):
    for saliency in read_all(chain["saliency"], SALIENCY, "saliency").values():
        assert saliency.shape == (48, 48) and 0 <= saliency.min() and saliency.max() <= 1


def test_cam_seeds_keep_every_labelled_class(chain):
    index = DatasetIndex.load(chain["index"])
    sps = read_all(chain["superpixels"], SUPERPIXELS, "labels")
    for image_id, seeds in read_all(chain["seeds"], SEEDS, "labels").items():
        assert len(seeds) == int(sps[image_id].max()) + 1
        assert set(np.unique(seeds)) <= {0, IGNORE, *index.labels[image_id]}
        assert set(index.labels[image_id]) <= set(seeds.tolist())


def test_regions_label_every_superpixel_with_an_allowed_class(chain):
    index = DatasetIndex.load(chain["index"])
    with ArtifactReader(chain["regions"], REGIONS) as regions:
        for image_id in index.ids:
            labels = regions.read(image_id, "labels")
            scores = regions.read(image_id, "scores").astype(np.float32)
            assert IGNORE not in labels
            assert set(np.unique(labels)) <= {0, *index.labels[image_id]}
            np.testing.assert_allclose(scores.sum(1), 1.0, atol=1e-2)
            outside = np.setdiff1d(np.arange(scores.shape[1]), [0, *index.labels[image_id]])
            assert np.all(scores[:, outside] == 0)
            assert set(index.labels[image_id]) <= set(labels.tolist())


def test_refinement_changes_only_single_class_images(chain):
    index = DatasetIndex.load(chain["index"])
    regions = read_all(chain["regions"], REGIONS, "labels")
    refined = read_all(chain["refined"], REFINED, "labels")
    for image_id in index.ids:
        if len(index.labels[image_id]) != 1:
            assert np.array_equal(regions[image_id], refined[image_id])
        else:
            assert set(np.unique(refined[image_id])) <= {0, *index.labels[image_id]}


@pytest.mark.parametrize("stage,restricted", [(TRAIN_MASKS, True), (VAL_MASKS, False)])
def test_pixelnet_masks_and_confidence(chain, stage, restricted):
    index = DatasetIndex.load(chain["index" if restricted else "val_index"])
    with ArtifactReader(chain[stage], stage) as masks:
        assert sorted(masks.ids) == sorted(index.ids)
        assert masks.params["restrict"] is restricted
        for image_id in index.ids:
            mask, confidence = masks.read(image_id, "mask"), masks.read(image_id, "confidence")
            assert mask.shape == confidence.shape == (48, 48)
            assert np.all((confidence > 0) & (confidence <= 1.001))
            if restricted:
                assert set(np.unique(mask)) <= {0, *index.labels[image_id]}
