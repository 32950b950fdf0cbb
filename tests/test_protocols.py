"""The field's evaluation protocols and the run record: the CAMs' background-threshold sweep
(IRNet, SEAM) on hand-counted 2x3 maps, and what every metrics.json records."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import subprocess

import numpy as np
import pytest
from PIL import Image

from mcof.artifacts import ArtifactWriter
from mcof.data.voc import DatasetIndex
from mcof.layout import CAMS, SEEDS, TEST_MASKS
from mcof.metrics import ConfusionMatrix
from mcof.record import config_sha256, cpu_model, git_commit, package_versions, run_record
from mcof.steps.evaluate import summarize_iteration
from mcof.steps.protocols import CAM_THRESHOLDS, CamThresholdSweep, cam_labels, evaluate_cams
from mcof.training.history import read_history, write_history

# One image: truth [[bg, alpha, alpha], [bg, beta, ignored]], the CAMs of its labels alpha (1)
# and beta (2). Highest CAM per pixel: 0.2 beta, 0.6 alpha, 0.4 beta, 0.2 alpha, 0.7 beta.
TRUTH = np.array([[0, 1, 1], [0, 2, 255]], np.uint8)
CAM_MAPS = np.array([[[0.1, 0.6, 0.3], [0.2, 0.05, 0.9]],
                     [[0.2, 0.1, 0.4], [0.05, 0.7, 0.1]]], np.float32)
LABELS = np.array([1, 2], np.uint8)


def test_cam_labels_take_the_argmax_over_threshold_and_cams():
    assert cam_labels(CAM_MAPS, LABELS, 0.25).tolist() == [[0, 1, 2], [0, 2, 1]]
    assert cam_labels(CAM_MAPS, LABELS, 0.5).tolist() == [[0, 1, 0], [0, 2, 1]]
    # a CAM equal to the threshold is background (numpy's argmax keeps the first of equals)
    assert cam_labels(np.array([[[0.5, 0.75]]], np.float16), [3], 0.5).tolist() == [[0, 3]]
    assert cam_labels(np.zeros((0, 2, 3), np.float32), [], 0.05).tolist() == [[0] * 3] * 2


def test_sweep_scores_every_threshold_by_hand():
    """t = 0.25: predictions bg, alpha, beta, bg, beta for truth bg, alpha, alpha, bg, beta:
    IoU bg 2/2, alpha 1/2, beta 1/2 -> mIoU 66.67. t = 0.5: bg, alpha, bg, bg, beta:
    IoU bg 2/3, alpha 1/2, beta 1/1 -> mIoU 72.22, the best."""
    sweep = CamThresholdSweep(3, thresholds=(0.5, 0.25))
    sweep.add(TRUTH, CAM_MAPS, LABELS)
    scores = sweep.summary(["background", "alpha", "beta"])
    assert scores["thresholds"] == [0.25, 0.5]
    assert scores["miou"] == pytest.approx([200 / 3, 1300 / 18])
    assert scores["best_threshold"] == 0.5 and scores["best_miou"] == pytest.approx(72.222, abs=1e-3)
    assert scores["best_iou"] == pytest.approx({"background": 200 / 3, "alpha": 50.0, "beta": 100.0})


def test_one_pass_sweep_equals_scoring_each_threshold_apart():
    """The histogram over 'thresholds below the highest CAM' gives the same confusion matrix as
    labelling the image at each threshold, on random CAMs of images with 0 to 3 labels."""
    rng = np.random.default_rng(0)
    sweep = CamThresholdSweep(4)
    direct = [ConfusionMatrix(4) for _ in CAM_THRESHOLDS]
    for n in (0, 1, 2, 3, 2):
        truth = rng.integers(0, 4, (9, 7)).astype(np.uint8)
        truth[0, :3] = 255
        classes = np.sort(rng.choice([1, 2, 3], n, replace=False)).astype(np.uint8)
        cams = rng.random((n, 9, 7)).astype(np.float16)  # stored as float16, like make_cams
        sweep.add(truth, cams, classes)
        for t, confusion in zip(CAM_THRESHOLDS, direct):
            confusion.add(truth, cam_labels(cams, classes, t))
    for i, confusion in enumerate(direct):
        np.testing.assert_array_equal(sweep.confusion(i).matrix, confusion.matrix)


def test_evaluate_cams_reads_the_cam_shards_and_the_masks(tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    Image.fromarray(TRUTH, mode="L").save(masks / "a.png")
    Image.fromarray(np.zeros((2, 3), np.uint8), mode="L").save(masks / "b.png")
    index = DatasetIndex(str(tmp_path), "train", ["background", "alpha", "beta"], ["a", "b"],
                         {"a": [1, 2], "b": []}, {"a": "a.jpg", "b": "b.jpg"})
    index.save(tmp_path / "train.json")
    for shard, (image_id, cams, classes) in enumerate(
            (("a", CAM_MAPS, LABELS), ("b", np.zeros((0, 2, 3)), np.zeros(0)))):
        with ArtifactWriter(tmp_path / f"cams{shard}.h5", CAMS) as out:
            out.write(image_id, cams=cams.astype(np.float16), classes=classes.astype(np.uint8))
    shards = [str(tmp_path / "cams0.h5"), str(tmp_path / "cams1.h5")]
    out = tmp_path / "cam_metrics.json"
    scores = evaluate_cams(str(tmp_path / "train.json"), shards, str(out), thresholds=[0.25, 0.5],
                           mask_dir=str(masks))
    # image b (no labels, all background) adds 6 correct background pixels: at t = 0.5
    # background's IoU is 8/9, so the mIoU is (8/9 + 1/2 + 1) / 3
    assert json.loads(out.read_text()) == scores
    assert scores["n_images"] == 2 and scores["best_threshold"] == 0.5
    assert scores["best_miou"] == pytest.approx(100 * (8 / 9 + 0.5 + 1) / 3)
    none = evaluate_cams(str(tmp_path / "train.json"), shards, str(out), thresholds=[0.5],
                         mask_dir=None)
    assert none == {"stage": CAMS, "split": "train", "no_masks": True}


def test_config_hash_ignores_key_order_and_sees_every_value():
    assert config_sha256({}) == hashlib.sha256(b"{}").hexdigest()
    a = {"seeds": {"object_threshold": 0.7, "background_threshold": 0.1}, "iterations": 5}
    b = {"iterations": 5, "seeds": {"background_threshold": 0.1, "object_threshold": 0.7}}
    assert config_sha256(a) == config_sha256(b)
    b["seeds"]["object_threshold"] = 0.71
    assert config_sha256(a) != config_sha256(b)


def test_versions_and_cpu_model(tmp_path):
    versions = package_versions()
    assert versions["python"] == platform.python_version()
    assert versions["torch"] == importlib.metadata.version("torch")
    assert versions["numpy"] == np.__version__
    assert package_versions(["no-such-package-mcof"])["no-such-package-mcof"] is None
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\n"
                       "model name\t: Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz\nflags\t: fpu\n")
    assert cpu_model(cpuinfo) == "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"


def git(directory, *args):
    return subprocess.run(["git", "-C", str(directory), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def test_git_commit_of_a_checkout_and_of_a_plain_directory(tmp_path):
    assert git_commit(tmp_path) == {"commit": None, "dirty": None}
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "Snakefile").write_text("rule all:\n")
    git(repo, "add", "Snakefile")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "first")
    assert git_commit(repo) == {"commit": git(repo, "rev-parse", "HEAD"), "dirty": False}
    (repo / "Snakefile").write_text("rule all:\n    input: []\n")
    assert git_commit(repo)["dirty"] is True


def test_metrics_json_records_the_run(tmp_path):
    stage = {"stage": SEEDS, "split": "train", "n_images": 1, "miou": 40.0, "iou": {},
             "object_precision": 1.0, "object_recall": 1.0, "background_precision": 1.0,
             "labelled_fraction": 1.0, "groups": {}}
    test = {**stage, "stage": TEST_MASKS, "split": "test", "miou": 50.0}
    (tmp_path / "s.json").write_text(json.dumps(stage))
    (tmp_path / "t.json").write_text(json.dumps(test))
    history = tmp_path / "pixelnet_history.csv"
    write_history(history, [{"epoch": 1, "loss": 0.5, "lr": 0.01, "seconds": 1.0,
                             "device": "NVIDIA H100 80GB HBM3 (CUDA 12.4)"}])
    report = summarize_iteration({SEEDS: str(tmp_path / "s.json"), TEST_MASKS: str(tmp_path / "t.json")},
                                 str(tmp_path / "m.json"), str(tmp_path / "miou.txt"), iteration=1,
                                 reported_split="test", trainings=[str(history)],
                                 workflow_dir=str(tmp_path), config_sha256="ab" * 32,
                                 snakemake_version="9.27.1")
    run = json.loads((tmp_path / "m.json").read_text())["run"]
    assert run == report["run"]
    assert run["device"] == "NVIDIA H100 80GB HBM3 (CUDA 12.4)"
    assert run["trainings"] == {str(history): "NVIDIA H100 80GB HBM3 (CUDA 12.4)"}
    assert run["git_commit"] is None and run["config_sha256"] == "ab" * 32
    assert run["packages"]["snakemake"] == "9.27.1"
    assert run["packages"]["torchvision"] == importlib.metadata.version("torchvision")
    assert run["host"]["cpu"] == cpu_model()
    # without trainings the record names the machine that wrote it
    alone = run_record(workflow_dir=None, config_sha256=None)
    assert alone["device"] in (f"CPU: {cpu_model()}",
                               f"{alone['host']['gpu']} (CUDA {alone['host']['cuda']})")


def test_history_csv_round_trip(tmp_path):
    rows = [{"epoch": 1, "loss": 0.75, "accuracy": 0.5, "lr": 0.01, "seconds": 2.0, "device": "CPU: x"},
            {"epoch": 2, "loss": 0.25, "lr": 0.005, "seconds": 2.5, "device": "CPU: x"}]
    write_history(tmp_path / "h.csv", rows)
    assert (tmp_path / "h.csv").read_text().splitlines()[0] == "epoch,loss,accuracy,lr,seconds,device"
    assert read_history(tmp_path / "h.csv") == [rows[0], {**rows[1], "accuracy": None}]
