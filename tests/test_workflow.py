"""The real workflow, end to end: lint, dry run, two iterations, no-op rerun, partial rerun."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from workflow_utils import planned_jobs, snakemake, tiny_config, write_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("run")
    write_config(workdir, tiny_config())
    snakemake(workdir, "--cores", "2", "results/iter2/miou.txt", "results/iter1/metrics.json")
    return workdir


def test_lint_passes(tmp_path):
    write_config(tmp_path, tiny_config())
    proc = snakemake(tmp_path, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_two_iterations_end_to_end(finished_run):
    miou = float((finished_run / "results/iter2/miou.txt").read_text())
    assert 0.0 <= miou <= 100.0
    first = json.loads((finished_run / "results/iter1/metrics.json").read_text())
    assert set(first["train_miou"]) == {"seeds", "regions", "refined", "train_masks"}
    second = json.loads((finished_run / "results/iter2/metrics.json").read_text())
    assert set(second["train_miou"]) == {"seeds", "regions", "train_masks"}
    assert second["val_miou"] == pytest.approx(miou, abs=0.01)
    assert set(second["val_iou"]) == {"background", "alpha", "beta", "gamma"}
    seeds = json.loads((finished_run / "results/iter1/seeds_metrics.json").read_text())
    assert seeds["n_images"] == 16 and 0 <= seeds["object_precision"] <= 100
    pngs = sorted((finished_run / "results/iter2").glob("val_pred/*.png"))
    assert len(pngs) == 8
    assert Image.open(pngs[0]).mode == "P"
    for rule_log in ("train_classifier.log", "iter1/train_regionnet.log", "iter2/train_pixelnet.log"):
        assert "epoch 2/2" in (finished_run / "results/logs" / rule_log).read_text()


def test_rerun_does_nothing(finished_run):
    proc = snakemake(finished_run, "-n", "--cores", "2", "results/iter2/miou.txt")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_deleting_superpixels_reruns_only_what_depends_on_them(finished_run):
    (finished_run / "results/superpixels/shard0.h5").unlink()
    proc = snakemake(finished_run, "-n", "--cores", "2", "results/iter2/miou.txt")
    jobs = planned_jobs(proc.stdout)
    assert jobs["superpixels"] == 1
    assert not {"prepare_dataset", "index_dataset", "train_classifier", "make_cams",
                "saliency"} & set(jobs)
    assert {"train_regionnet", "train_pixelnet", "seeds_from_cam"} <= set(jobs)
