"""Every switch of the loop on at once, end to end on a tiny config (a file of its own, so
that pytest-xdist runs it beside tests/test_workflow.py's finished run)."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from workflow_utils import snakemake, tiny_config, write_config

pytestmark = pytest.mark.slow


def test_every_switch_on_end_to_end(tmp_path):
    """Every lever of the loop at once (class keeping, multi-class refinement, the CRF in the
    loop, multi-scale CAM, the random walk on CAMs and masks, RegionNet from PixelNet, pooled
    both, relabel-all in iteration 1, confident mask seeds with mask objects kept, fewer epochs
    after iteration 1): the stages the switches add are made and scored, each iteration trains
    its own number of epochs, every image keeps a seed region of each class its labels name, in
    every iteration, and no region the masks called an object turns background in iteration 2
    unless RegionNet is sure."""
    config = tiny_config(iterations=2, comparisons={}, report_samples=0)
    config["shards"]["train"] = 1
    config["seeds"].update(keep_every_class=True, mask_min_confidence=0.9, mask_min_share=0.5)
    config["regionnet"].update(keep_every_class=True, init_from="pixelnet", pooled="both",
                               seed_override=[None, 0.9], keep_mask_objects=0.9)
    config["refine"]["multi_class"] = "saliency"
    config["crf"]["loop"] = True
    config["cam"]["scales"] = [1.0, 0.5]
    config["affinity"].update(cams=True, masks=True, epochs=1, batch_size=8, crop=48)
    config["regionnet"]["epochs"] = [2, 1]  # iterations after the first train shorter
    config["pixelnet"]["epochs"] = [2, 1]
    write_config(tmp_path, config)
    snakemake(tmp_path, "--cores", "2", "results/iter1/metrics.json", "results/iter2/miou.txt")
    first = json.loads((tmp_path / "results/iter1/metrics.json").read_text())
    second = json.loads((tmp_path / "results/iter2/metrics.json").read_text())
    assert {"seeds", "regions", "refined", "crf_labels", "targets"} <= set(first["train_miou"])
    assert {"seeds", "regions", "crf_labels", "targets"} <= set(second["train_miou"])
    assert (tmp_path / "results/rw_cams/shard0.h5").exists()
    assert (tmp_path / "results/iter1/rw_masks/shard0.h5").exists()
    for network in ("regionnet", "pixelnet"):
        epochs = [len((tmp_path / f"results/iter{k}/{network}_history.csv").read_text()
                      .splitlines()) - 1 for k in (1, 2)]
        assert epochs == [2, 1], network
    index = json.loads((tmp_path / "results/dataset/train.json").read_text())
    for k in (1, 2):
        for shard in sorted((tmp_path / f"results/iter{k}/seeds").glob("shard*.h5")):
            with h5py.File(shard) as seeds:
                assert json.loads(seeds.attrs["params"])["keep_every_class"] is True
                for image_id in seeds:
                    kept = set(seeds[image_id]["labels"][()].tolist())
                    assert set(index["labels"][image_id]) <= kept, (k, image_id)
    # (the rule itself: tests/steps/test_pipeline_steps.py; here it is wired to iteration 2 only)
    with h5py.File(tmp_path / "results/iter2/seeds/shard0.h5") as seeds, \
            h5py.File(tmp_path / "results/iter2/regions/shard0.h5") as regions:
        assert json.loads(regions.attrs["params"])["keep_mask_objects"] == 0.9
        for image_id in seeds:
            unsure = seeds[image_id]["labels"][()] == 255
            voted_object = seeds[image_id]["votes"][()] != 0
            labels = regions[image_id]["labels"][()]
            background = regions[image_id]["scores"][()][:, 0].astype(np.float32)
            assert np.all(background[unsure & voted_object & (labels == 0)] >= 0.9 - 1e-3)
    with h5py.File(tmp_path / "results/iter1/regions/shard0.h5") as regions:
        assert json.loads(regions.attrs["params"])["keep_mask_objects"] is None
    assert float((tmp_path / "results/iter2/miou.txt").read_text()) == pytest.approx(
        second["test_miou"], abs=0.01)
