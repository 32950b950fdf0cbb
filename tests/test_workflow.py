"""The real workflow, end to end: lint, dry run, two iterations, no-op rerun, partial rerun."""

from __future__ import annotations

import json
import re

import h5py
import pytest
import yaml
from PIL import Image

from mcof.record import config_sha256, git_commit
from mcof.training.history import read_history
from workflow_utils import ROOT, planned_jobs, snakemake, tiny_config, write_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """The default target (two iterations, a comparison run, the metrics and the report's
    figures), with the dense CRF in the loop and on the final predictions."""
    workdir = tmp_path_factory.mktemp("run")
    config = tiny_config()
    # enough images and epochs for every network to learn something (16 images and 2 epochs
    # give seeds no better than chance), so that the assertions below can tell a working
    # pipeline from a broken one
    config["dataset"]["synthetic"]["n_train"] = 48
    config["classifier"]["epochs"] = 10
    config["regionnet"]["epochs"] = 4
    config["pixelnet"]["epochs"] = 6
    config["crf"].update(loop=True, final=True, bi_xy_std=100)
    # one comparison run keeps the test's time down; test_comparison_runs_share_what_they_can
    # plans all of config.yaml's
    config["comparisons"] = {"direct": {"mode": "direct"}}
    write_config(workdir, config)
    snakemake(workdir, "--cores", "2", "all", "results/comparison.json", timeout=1500)
    return workdir


def test_lint_passes(tmp_path):
    write_config(tmp_path, tiny_config())
    proc = snakemake(tmp_path, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_two_iterations_end_to_end(finished_run):
    """What a broken pipeline would fail: the seeds are partial and precise, RegionNet and
    PixelNet improve on them, and the final masks beat anything a constant guess reaches."""
    miou = float((finished_run / "results/iter2/miou.txt").read_text())
    first = json.loads((finished_run / "results/iter1/metrics.json").read_text())
    assert set(first["train_miou"]) == {"seeds", "regions", "refined", "crf_labels", "targets",
                                        "train_masks"}
    second = json.loads((finished_run / "results/iter2/metrics.json").read_text())
    assert set(second["train_miou"]) == {"seeds", "regions", "crf_labels", "targets", "train_masks"}
    assert second["reported_split"] == "test" and second["test_miou"] == pytest.approx(miou, abs=0.01)
    assert set(second["test_iou"]) == {"background", "alpha", "beta", "gamma"}
    seeds = first["diagnostics"]["seeds"]
    assert seeds["object_precision"] > seeds["object_recall"]
    # RegionNet grows the seeds, the refinement and PixelNet keep what it found
    regions = first["diagnostics"]["regions"]
    assert regions["object_recall"] > seeds["object_recall"] + 10
    assert first["train_miou"]["refined"] > first["train_miou"]["seeds"]
    # predicting background everywhere scores background's IoU over four classes
    background_only = 100 * (1 - first["stages"]["train_masks"]["object_recall"] / 100) / 4
    assert miou > 25 > background_only
    with h5py.File(finished_run / "results/iter2/test_masks/shard0.h5") as masks:
        assert json.loads(masks.attrs["params"])["crf"]["bi_xy_std"] == 100
    pngs = sorted((finished_run / "results/iter2").glob("test_pred/*.png"))
    assert len(pngs) == 8
    assert Image.open(pngs[0]).mode == "P"
    for rule_log, epochs in (("train_classifier.log", 10), ("iter1/train_regionnet.log", 4),
                             ("iter2/train_pixelnet.log", 6)):
        assert f"epoch {epochs}/{epochs}" in (finished_run / "results/logs" / rule_log).read_text()
    # the run record, every training's history, the CAMs' threshold sweep
    run = second["run"]
    config = yaml.safe_load((finished_run / "config.yaml").read_text())
    assert run["config_sha256"] == config_sha256(config)
    assert run["git_commit"] == git_commit(ROOT)["commit"]
    assert run["packages"]["torch"] and run["packages"]["snakemake"]
    assert set(run["trainings"]) == {"results/iter2/regionnet_history.csv",
                                     "results/iter2/pixelnet_history.csv"}
    assert run["device"].startswith("CPU: ")
    for history, epochs in (("classifier/history.csv", 10), ("iter1/regionnet_history.csv", 4),
                            ("iter2/pixelnet_history.csv", 6)):
        rows = read_history(finished_run / "results" / history)
        assert [r["epoch"] for r in rows] == list(range(1, epochs + 1)), history
        assert rows[-1]["lr"] < rows[0]["lr"], history
    cams = json.loads((finished_run / "results/cam_metrics.json").read_text())
    assert len(cams["miou"]) == 19 and cams["best_miou"] == max(cams["miou"])
    comparison = json.loads((finished_run / "results/comparison.json").read_text())["runs"]
    assert set(comparison) == {"results", "results/ablation/direct"}
    assert list(comparison["results"]["test_miou"]) == ["1", "2"]


def test_rerun_does_nothing(finished_run):
    proc = snakemake(finished_run, "-n", "--cores", "2", "results/iter2/miou.txt")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_deleting_superpixels_reruns_only_what_depends_on_them(finished_run):
    (finished_run / "results/superpixels/shard0.h5").unlink()
    jobs = planned_jobs(snakemake(finished_run, "-n", "--cores", "2").stdout)
    assert jobs["superpixels"] == 1
    assert not {"prepare_dataset", "index_dataset", "train_classifier", "make_cams",
                "saliency"} & set(jobs)
    assert {"train_regionnet", "train_pixelnet", "seeds_from_cam"} <= set(jobs)
    assert jobs["seeds_from_cam"] == 1  # shard 1's seeds do not depend on shard 0


def test_comparison_runs_share_what_they_can(tmp_path):
    write_config(tmp_path, tiny_config())
    jobs = planned_jobs(snakemake(tmp_path, "-n", "--cores", "2", "results/comparison.json").stdout)
    # main run: iterations 1-2; no_saliency: its own RegionNet only in iteration 2; direct: none
    assert jobs["train_regionnet"] == 3
    # main 2 + direct 1 (iteration 2; iteration 1 is the main run's) + no_saliency 2 + full 1
    assert jobs["train_pixelnet"] == 6
    assert jobs["refine_regions"] == 2  # shards of the main run's iteration 1 only


def test_later_pixelnets_start_from_the_previous_one(tmp_path):
    write_config(tmp_path, tiny_config())
    out = snakemake(tmp_path, "-n", "--cores", "2", "results/comparison.json").stdout
    jobs = [block for block in out.split("rule ")[1:] if block.startswith("train_pixelnet:")]
    inputs = {re.search(r"output: ([^\s,]+)", job)[1]: re.search(r"input: (.*)", job)[1] for job in jobs}
    assert "results/iter1/pixelnet.pt" in inputs["results/iter2/pixelnet.pt"]
    assert "results/iter1/pixelnet.pt" in inputs["results/ablation/direct/iter2/pixelnet.pt"]
    assert "pixelnet.pt" not in inputs["results/iter1/pixelnet.pt"]
    assert "pixelnet.pt" not in inputs["results/ablation/full/iter1/pixelnet.pt"]


def chromium() -> str:
    """Debian's chromium, installed on first use (the test machine is a Debian one)."""
    import os
    import shutil
    import subprocess

    found = shutil.which("chromium")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
                       check=True, capture_output=True, env=env, timeout=600)
        found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium is not installed and cannot be installed here")
    return found


def test_report_renders_in_headless_chromium(finished_run, tmp_path):
    import subprocess

    snakemake(finished_run, "--report", "report.html")
    report = finished_run / "report.html"
    assert report.stat().st_size > 100_000
    proc = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000",
         "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=180)
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in ("miou_curve.svg", "stage_table.html", "class_iou.svg", "cam_thresholds.svg",
                 "training.svg", "sample0.png", "sample1.png"):
        assert name in dom, f"{name} not shown in the rendered report"


def test_corrupt_image_fails_with_its_name_and_keeps_finished_artifacts(tmp_path):
    write_config(tmp_path, tiny_config())
    snakemake(tmp_path, "--cores", "1", "results/dataset/val.json")
    train_list = tmp_path / "results/dataset/VOC2012/ImageSets/Segmentation/train.txt"
    victim = train_list.read_text().split()[3]
    jpeg = tmp_path / f"results/dataset/VOC2012/JPEGImages/{victim}.jpg"
    jpeg.write_bytes(jpeg.read_bytes()[:200])
    val_index = (tmp_path / "results/dataset/val.json").read_bytes()

    proc = snakemake(tmp_path, "--cores", "1", "results/dataset/train.json", check=False)
    assert proc.returncode != 0
    log = (tmp_path / "results/logs/index_dataset/train.log").read_text()
    assert "failed: DatasetError" in log and f"{victim}.jpg" in log
    assert not (tmp_path / "results/dataset/train.json").exists()
    assert (tmp_path / "results/dataset/val.json").read_bytes() == val_index
