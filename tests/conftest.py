"""Shared fixtures: a tiny synthetic dataset written once per test session, and one finished
iteration-1 run of the workflow shared by every worker."""

from __future__ import annotations

import fcntl
import json
import logging
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from workflow_utils import snakemake, tiny_config, write_config

from mcof.data.synthetic import SyntheticSpec, class_names, write_synthetic_voc
from mcof.data.voc import GroundTruth, build_index

TINY = SyntheticSpec(n_train=12, n_val=6, size=48, n_classes=3, seed=3)


@pytest.fixture(scope="session")
def tiny_voc(tmp_path_factory):
    """(root, train index, val index) of a 12 + 6 image synthetic dataset at 48 px."""
    root = tmp_path_factory.mktemp("voc") / "VOC2012"
    write_synthetic_voc(root, TINY)
    names = class_names(TINY.n_classes)
    train = build_index(root, "train", names, "ImageSets/Segmentation/train.txt",
                        mask_dir="SegmentationClass")
    val = build_index(root, "val", names, "ImageSets/Segmentation/val.txt", labels_from=None)
    return root, train, val


@pytest.fixture(scope="session")
def tiny_truth(tiny_voc):
    """The tiny dataset's ground-truth masks (what only evaluation may read)."""
    root, train, _ = tiny_voc
    return GroundTruth(str(root / "SegmentationClass"), train.n_classes)


@pytest.fixture(scope="session")
def tiny_index_files(tiny_voc, tmp_path_factory):
    """Paths of the saved train and val index files of the tiny dataset."""
    _, train, val = tiny_voc
    out = tmp_path_factory.mktemp("index")
    train.save(out / "train.json")
    val.save(out / "val.json")
    return str(out / "train.json"), str(out / "val.json")


@pytest.fixture(scope="session")
def iteration_one_run(tmp_path_factory):
    """results/iter1/miou.txt of tiny_config(), made as a weak run must be made: the test
    split's masks are hidden while every weak stage and PixelNet's test predictions run, and put
    back for the evaluation alone. Made once for every test that needs a finished iteration 1,
    whichever pytest-xdist worker asks first (the others wait on a file lock); a test that
    changes it works on a copy (workflow_utils.copy_run)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    record = shared / "iteration_one.json"
    with open(shared / "iteration_one.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            record.write_text(json.dumps(make_iteration_one(shared / "iteration_one")))
    facts = json.loads(record.read_text())
    return SimpleNamespace(**{**facts, "workdir": Path(facts["workdir"])})


def make_iteration_one(workdir: Path) -> dict:
    write_config(workdir, tiny_config())
    snakemake(workdir, "--cores", "1", "results/dataset/test.json")
    root = workdir / "results/dataset/VOC2012"
    test_ids = (root / "ImageSets/Segmentation/test.txt").read_text().split()
    hidden = workdir / "hidden"
    hidden.mkdir()
    for image_id in test_ids:
        (root / "SegmentationClass" / f"{image_id}.png").rename(hidden / f"{image_id}.png")
    snakemake(workdir, "--cores", "2", "results/iter1/test_masks/shard0.h5",
              "results/iter1/train_masks_metrics.json", "results/iter1/val_masks_metrics.json")
    without_masks = snakemake(workdir, "--cores", "1", "results/iter1/miou.txt", check=False)
    log = workdir / "results/logs/iter1/evaluate_stage/test_masks.log"
    evaluation_log = log.read_text() if log.exists() else ""
    for png in hidden.iterdir():
        png.rename(root / "SegmentationClass" / png.name)
    hidden.rmdir()
    snakemake(workdir, "--cores", "2", "results/iter1/miou.txt")
    return {"workdir": str(workdir), "test_ids": test_ids,
            "returncode_without_masks": without_masks.returncode,
            "evaluation_log_without_masks": evaluation_log}


@pytest.fixture(autouse=True)
def quiet_logs():
    logging.getLogger("mcof").setLevel(logging.WARNING)


@pytest.fixture
def small_disk(tmp_path):
    """A directory on a real 256 KiB tmpfs, unmounted afterwards; skips where this process may
    not mount one (mounting needs root)."""
    import os
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)
