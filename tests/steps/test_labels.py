"""Seeds of later iterations, PixelNet's targets and the CRF labels on hand-made artifacts."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mcof import IGNORE
from mcof.artifacts import ArtifactReader, ArtifactWriter
from mcof.data.voc import DatasetIndex
from mcof.layout import CAMS, CRF_LABELS, REFINED, SEEDS, SUPERPIXELS, TRAIN_MASKS
from mcof.steps.crf import make_crf_labels
from mcof.steps.pixelnet import Targets
from mcof.steps.seeds import make_mask_seeds

BLOCKS = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]], np.int32)


@pytest.fixture
def hand_made(tmp_path):
    """Image a labelled alpha (1) and beta (2); its PixelNet mask lost beta."""
    index = DatasetIndex(str(tmp_path), "train", ["background", "alpha", "beta"], ["a"],
                         {"a": [1, 2]}, {"a": "a.png"})
    index.save(tmp_path / "train.json")
    image = np.zeros((4, 4, 3), np.uint8)
    image[:2, 2:] = (250, 0, 0)
    Image.fromarray(image).save(tmp_path / "a.png")
    with ArtifactWriter(tmp_path / "sp.h5", SUPERPIXELS) as out:
        out.write("a", labels=BLOCKS)
    mask = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]], np.uint8)
    with ArtifactWriter(tmp_path / "masks.h5", TRAIN_MASKS) as out:
        out.write("a", mask=mask, confidence=np.full((4, 4), 0.95, np.float16))
    cams = np.zeros((2, 4, 4), np.float16)
    cams[1, 2:, :2] = 0.4   # beta's CAM peaks in block 2
    with ArtifactWriter(tmp_path / "cams.h5", CAMS) as out:
        out.write("a", cams=cams, classes=np.array([1, 2], np.uint8))
    return tmp_path


def seeds_of(path):
    with ArtifactReader(path, SEEDS) as reader:
        return reader.read("a", "labels").tolist()


@pytest.mark.parametrize("cam_seeds,expected", [
    ([0, 1, IGNORE, 0], [0, 1, 2, 0]),   # no CAM seed of beta: its highest mean CAM (block 2)
    ([0, 1, 0, 2], [0, 1, 0, 2]),        # beta's CAM seeds come back
])
def test_mask_seeds_keep_every_labelled_class(hand_made, cam_seeds, expected):
    with ArtifactWriter(hand_made / "cam_seeds.h5", SEEDS) as out:
        out.write("a", labels=np.array(cam_seeds, np.uint8))
    common = dict(index=str(hand_made / "train.json"), masks=str(hand_made / "masks.h5"),
                  superpixels=str(hand_made / "sp.h5"), shard=0, n_shards=1, min_confidence=0.9,
                  min_share=0.5, cam_seeds=[str(hand_made / "cam_seeds.h5")],
                  cams=[str(hand_made / "cams.h5")])
    make_mask_seeds(out=str(hand_made / "lost.h5"), **common)
    assert seeds_of(hand_made / "lost.h5") == [0, 1, 0, 0]  # beta is gone
    make_mask_seeds(out=str(hand_made / "kept.h5"), keep_every_class=True, **common)
    assert seeds_of(hand_made / "kept.h5") == expected


def test_mask_seeds_carry_every_regions_vote(hand_made):
    """Unsure pixels leave a region unlabelled, but its vote (every pixel voting) is kept."""
    with ArtifactWriter(hand_made / "unsure.h5", TRAIN_MASKS) as out:
        confidence = np.full((4, 4), 0.95, np.float16)
        confidence[:2, 2:] = 0.6   # block 1, alpha, unsure
        out.write("a", mask=np.array([[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 2, 2], [0, 0, 0, 0]],
                                     np.uint8), confidence=confidence)
    make_mask_seeds(str(hand_made / "train.json"), str(hand_made / "unsure.h5"),
                    str(hand_made / "sp.h5"), str(hand_made / "s.h5"), shard=0, n_shards=1,
                    min_confidence=0.9, min_share=0.5)
    with ArtifactReader(hand_made / "s.h5", SEEDS) as reader:
        assert reader.read("a", "labels").tolist() == [0, IGNORE, 0, 0]
        assert reader.read("a", "votes").tolist() == [0, 1, 0, 0]  # block 3: a 2:2 tie -> 0


def test_mask_seeds_need_iteration_one_seeds_to_keep_classes(hand_made):
    with pytest.raises(ValueError, match="iteration 1's seeds"):
        make_mask_seeds(str(hand_made / "train.json"), str(hand_made / "masks.h5"),
                        str(hand_made / "sp.h5"), str(hand_made / "x.h5"), shard=0, n_shards=1,
                        keep_every_class=True, cams=[str(hand_made / "cams.h5")])


def test_targets_paint_regions_and_read_masks(hand_made):
    index = DatasetIndex.load(hand_made / "train.json")
    with ArtifactWriter(hand_made / "refined.h5", REFINED) as out:
        out.write("a", labels=np.array([0, 1, IGNORE, 2], np.uint8))
    painted = Targets("superpixel_labels", index, [str(hand_made / "refined.h5")], REFINED,
                      [str(hand_made / "sp.h5")])("a")
    assert painted.tolist() == [[0, 0, 1, 1], [0, 0, 1, 1], [255, 255, 2, 2], [255, 255, 2, 2]]
    masks = Targets("pixel_masks", index, [str(hand_made / "masks.h5")], TRAIN_MASKS,
                    min_confidence=0.96)("a")
    assert (masks == IGNORE).all()  # every pixel is 0.95 confident
    with pytest.raises(ValueError, match="needs the masks' directory"):
        Targets("ground_truth", index)


def test_crf_labels_follow_the_image_edge(hand_made):
    """Region 1 (the red top-right block) is labelled alpha; the CRF keeps alpha on the red
    pixels and the rest, unlabelled or background, goes to background."""
    with ArtifactWriter(hand_made / "refined.h5", REFINED) as out:
        out.write("a", labels=np.array([0, 1, IGNORE, IGNORE], np.uint8))
    make_crf_labels(str(hand_made / "train.json"), str(hand_made / "refined.h5"),
                    str(hand_made / "sp.h5"), str(hand_made / "crf.h5"), label_stage=REFINED,
                    shard=0, n_shards=1, label_confidence=0.7,
                    crf=dict(iterations=5, bi_xy_std=4, bi_rgb_std=13, bi_weight=10, window=5,
                             reference_size=None))
    with ArtifactReader(hand_made / "crf.h5", CRF_LABELS) as reader:
        mask, confidence = reader.read("a", "mask"), reader.read("a", "confidence")
    red = np.zeros((4, 4), bool)
    red[:2, 2:] = True
    assert (mask[red] == 1).all() and (mask[~red] == 0).all()
    assert confidence.min() > 0.5
