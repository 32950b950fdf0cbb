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


def test_regions_voted_object_turn_background_only_when_regionnet_is_sure(chain, tmp_path):
    """Seeds of a later iteration where every region is unsure and the masks voted each image's
    first class everywhere: without keep_mask_objects RegionNet makes some of them background;
    with it (1.0: any doubt is enough) none becomes background unless RegionNet gives
    background probability 1."""
    from mcof.artifacts import ArtifactWriter
    from mcof.steps.regionnet import infer_regionnet

    index = DatasetIndex.load(chain["index"])
    superpixels = read_all(chain["superpixels"], SUPERPIXELS, "labels")
    with ArtifactWriter(tmp_path / "seeds.h5", SEEDS) as out:
        for image_id in index.ids:
            n = int(superpixels[image_id].max()) + 1
            first = index.labels[image_id][0] if index.labels[image_id] else 0
            out.write(image_id, labels=np.full(n, IGNORE, np.uint8),
                      votes=np.full(n, first, np.uint8))
    common = dict(index=chain["index"], model=chain["regionnet"], superpixels=chain["superpixels"],
                  seeds=str(tmp_path / "seeds.h5"), shard=0, n_shards=1, seed_override=0.9,
                  device="cpu")
    infer_regionnet(out=str(tmp_path / "free.h5"), **common)
    infer_regionnet(out=str(tmp_path / "kept.h5"), keep_mask_objects=1.0, **common)
    free = read_all(tmp_path / "free.h5", REGIONS, "labels")
    kept = read_all(tmp_path / "kept.h5", REGIONS, "labels")
    scores = read_all(tmp_path / "kept.h5", REGIONS, "scores")
    labelled = [i for i in index.ids if index.labels[i]]
    assert sum(int((free[i] == 0).sum()) for i in labelled) > 0
    for image_id in labelled:
        sure = scores[image_id][:, 0].astype(np.float32) >= 1.0
        assert np.all((kept[image_id] != 0) | sure), image_id
        changed = free[image_id] != kept[image_id]
        assert np.all(kept[image_id][changed] == index.labels[image_id][0])


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
