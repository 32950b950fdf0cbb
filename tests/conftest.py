"""Shared fixtures: a tiny synthetic dataset written once per test session."""

from __future__ import annotations

import logging

import pytest

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
