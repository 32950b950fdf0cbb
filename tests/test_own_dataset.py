"""A user's own dataset through the real workflow: a folder of JPEGs with a label CSV and no mask
anywhere runs to the last iteration's pseudo-labels; a bad label file stops the index job."""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest
from PIL import Image

from mcof.data.palette import voc_palette
from mcof.data.synthetic import SyntheticSpec, class_names, write_synthetic_voc
from mcof.data.voc import build_index
from workflow_utils import snakemake, tiny_config, write_config

pytestmark = pytest.mark.slow

CLASSES = class_names(3)


def make_folder(root):
    """root/images/<id>.jpg and root/labels.csv, from a synthetic dataset whose masks are then
    thrown away; returns the labels {id: class ids}."""
    source = root.parent / "source"
    write_synthetic_voc(source, SyntheticSpec(n_train=16, n_val=1, n_test=0, size=48,
                                              n_classes=3, seed=0))
    index = build_index(source, "train", CLASSES, "ImageSets/Segmentation/train.txt",
                        mask_dir="SegmentationClass")
    (root / "images").mkdir(parents=True)
    lines = ["image_id,labels"]
    labels = {}
    for image_id in index.ids:
        shutil.copy(source / "JPEGImages" / f"{image_id}.jpg", root / "images")
        if index.labels[image_id]:
            labels[image_id] = index.labels[image_id]
            lines.append(f"{image_id},{' '.join(CLASSES[c] for c in labels[image_id])}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    shutil.rmtree(source)
    return labels


def folder_config(root, **overrides):
    """The tiny settings on the folder; config.yaml's comparison runs stay (and are left out,
    as there are no masks to compare them on)."""
    config = tiny_config(**overrides)
    config["dataset"].update(source="folder", root=str(root), image_dir="images", mask_dir=None,
                             labels="labels.csv", train_list=None, val_list=None, test_list=None,
                             classes=CLASSES)
    config["shards"]["train"] = 1
    return config


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory):
    """The default target on the mask-less folder, refined regions exported too."""
    base = tmp_path_factory.mktemp("own")
    labels = make_folder(base / "photos")
    config = folder_config(base / "photos")
    config["export"]["refined"] = True
    write_config(base / "run", config)
    snakemake(base / "run", "--cores", "2", timeout=1800)  # about 3 minutes on 2 idle cores
    return base / "run", labels


def read_png(path) -> np.ndarray:
    png = Image.open(path)
    assert png.mode == "P" and png.getpalette() == voc_palette().flatten().tolist()
    return np.asarray(png)


def test_a_mask_less_folder_runs_to_the_last_pseudo_labels(folder_run):
    workdir, labels = folder_run
    results = workdir / "results"
    index = json.loads((results / "dataset/train.json").read_text())
    assert index["labels"] == labels and "mask" not in json.dumps(index)
    pngs = sorted((results / "iter2/pseudo_labels").glob("*.png"))
    assert [p.stem for p in pngs] == sorted(labels)
    with h5py.File(results / "iter2/train_masks/shard0.h5") as masks:
        for png in pngs:
            np.testing.assert_array_equal(read_png(png), masks[png.stem]["mask"][()])
    with h5py.File(results / "iter1/refined/shard0.h5") as refined, \
            h5py.File(results / "superpixels/shard0.h5") as superpixels:
        for image_id in labels:
            painted = refined[image_id]["labels"][()][superpixels[image_id]["labels"][()]]
            np.testing.assert_array_equal(
                read_png(results / f"iter1/refined_labels/{image_id}.png"), painted)
    for stage in ("seeds", "regions", "refined", "targets", "train_masks"):
        scores = json.loads((results / f"iter1/{stage}_metrics.json").read_text())
        assert scores == {"stage": stage, "split": "train", "no_masks": True}
    assert json.loads((results / "saliency_metrics.json").read_text())["no_masks"]
    assert not list(results.glob("iter*/metrics.json")) and not list(results.glob("iter*/miou.txt"))
    assert "Nothing to be done" in snakemake(workdir, "-n", "--cores", "2").stdout
    proc = snakemake(workdir, "-n", "--cores", "2", "results/iter2/miou.txt", check=False)
    assert proc.returncode != 0
    assert ("no split with masks to evaluate on" in proc.stdout + proc.stderr
            and "results/iter2/pseudo_labels" in proc.stdout + proc.stderr)


def test_the_report_of_a_mask_less_run_is_made(folder_run):
    workdir, _ = folder_run
    snakemake(workdir, "--report", "report.html")
    assert (workdir / "report.html").stat().st_size > 10_000


def test_lint_passes_for_a_folder_dataset(tmp_path):
    make_folder(tmp_path / "photos")
    write_config(tmp_path / "run", folder_config(tmp_path / "photos"))
    lint = snakemake(tmp_path / "run", "--lint")
    assert "Congratulations" in lint.stdout + lint.stderr


def test_an_unknown_class_stops_the_index_job_and_writes_nothing(tmp_path):
    make_folder(tmp_path / "photos")
    label_file = tmp_path / "photos" / "labels.csv"
    lines = label_file.read_text().splitlines()
    victim = lines[3].split(",")[0]
    lines[3] = f"{victim},alpha dragon"
    label_file.write_text("\n".join(lines) + "\n")
    write_config(tmp_path / "run", folder_config(tmp_path / "photos"))
    proc = snakemake(tmp_path / "run", "--cores", "1", "results/dataset/train.json", check=False)
    assert proc.returncode != 0
    log = (tmp_path / "run/results/logs/index_dataset/train.log").read_text()
    error = next(line for line in log.splitlines() if "failed: DatasetError" in line)
    assert error.endswith(f"failed: DatasetError: label file {label_file}, line 4: image {victim}: "
                          f"unknown class dragon (classes: alpha, beta, gamma)")
    assert not (tmp_path / "run/results/dataset/train.json").exists()
    assert not list((tmp_path / "run/results/dataset").glob("*"))
