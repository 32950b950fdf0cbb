"""Pseudo-labels as PNGs: PixelNet's training-set masks, and the refined regions painted on the
superpixels, in the VOC palette; each PNG equals its HDF5 array."""

from __future__ import annotations

import numpy as np
from PIL import Image

from mcof.artifacts import ArtifactReader, ArtifactWriter
from mcof.data.palette import voc_palette
from mcof.layout import REFINED, SUPERPIXELS, TRAIN_MASKS
from mcof.steps.export import export_pngs

BLOCKS = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]], np.int32)


def read_png(path) -> np.ndarray:
    png = Image.open(path)
    assert png.mode == "P" and png.getpalette() == voc_palette().flatten().tolist()
    return np.asarray(png)


def test_pseudo_labels_equal_the_masks_of_every_shard(tmp_path):
    rng = np.random.default_rng(0)
    for shard, ids in enumerate((["a", "b"], ["c"])):
        with ArtifactWriter(tmp_path / f"shard{shard}.h5", TRAIN_MASKS) as out:
            for image_id in ids:
                out.write(image_id, mask=rng.integers(0, 4, (6, 5)).astype(np.uint8),
                          confidence=np.ones((6, 5), np.float16))
    shards = [str(tmp_path / "shard0.h5"), str(tmp_path / "shard1.h5")]
    assert export_pngs(shards, str(tmp_path / "pseudo_labels"), stage=TRAIN_MASKS) == 3
    with ArtifactReader(shards, TRAIN_MASKS) as masks:
        for image_id in "abc":
            np.testing.assert_array_equal(read_png(tmp_path / "pseudo_labels" / f"{image_id}.png"),
                                          masks.read(image_id, "mask"))
    assert sorted(p.name for p in (tmp_path / "pseudo_labels").iterdir()) == ["a.png", "b.png",
                                                                              "c.png"]


def test_refined_regions_are_painted_on_the_superpixels(tmp_path):
    """Superpixels 0..3 are the four 2x2 blocks; their labels background, alpha, unlabelled,
    beta give the PNG block by block."""
    with ArtifactWriter(tmp_path / "sp.h5", SUPERPIXELS) as out:
        out.write("a", labels=BLOCKS)
    with ArtifactWriter(tmp_path / "refined.h5", REFINED) as out:
        out.write("a", labels=np.array([0, 1, 255, 2], np.uint8))
    export_pngs([str(tmp_path / "refined.h5")], str(tmp_path / "refined_labels"), stage=REFINED,
                superpixels=[str(tmp_path / "sp.h5")])
    np.testing.assert_array_equal(read_png(tmp_path / "refined_labels" / "a.png"),
                                  [[0, 0, 1, 1], [0, 0, 1, 1], [255, 255, 2, 2], [255, 255, 2, 2]])


def test_a_second_export_replaces_the_first(tmp_path):
    with ArtifactWriter(tmp_path / "m.h5", TRAIN_MASKS) as out:
        out.write("a", mask=np.ones((2, 2), np.uint8), confidence=np.ones((2, 2), np.float16))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "stale.png").write_bytes(b"")
    export_pngs([str(tmp_path / "m.h5")], str(tmp_path / "out"), stage=TRAIN_MASKS)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.png"]
