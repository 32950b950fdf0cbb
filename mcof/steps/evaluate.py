"""Evaluation rules: per-shard confusion matrices, their summaries, and the iteration report.

Every stage is scored against the ground truth three ways: over all images, over images of one
class and over images of several classes (by the classes their ground truth holds), because
what an iteration does to the two kinds differs.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from mcof.artifacts import ArtifactReader
from mcof.data.voc import DatasetIndex, GroundTruth
from mcof.files import read_json, write_json, write_text
from mcof.layout import PIXEL_STAGES, REGION_STAGES, SALIENCY, SUPERPIXELS, TARGETS, TRAIN_MASKS
from mcof.metrics import ConfusionMatrix, SaliencyScores
from mcof.superpixels import paint

IMAGE_GROUPS = ("single_class", "multi_class")


class GroupedConfusion:
    """Confusion matrices of all images and of single- and multi-class images apart."""

    def __init__(self, n_classes: int):
        self.all = ConfusionMatrix(n_classes)
        self.groups = {name: ConfusionMatrix(n_classes) for name in IMAGE_GROUPS}
        self.counts = {name: 0 for name in IMAGE_GROUPS}

    def add(self, gt: np.ndarray, pred: np.ndarray) -> None:
        n_present = len([v for v in np.unique(gt) if v not in (0, 255)])
        group = "multi_class" if n_present > 1 else "single_class"
        self.all.add(gt, pred)
        self.groups[group].add(gt, pred)
        self.counts[group] += 1

    def summary(self, stage: str, split: str, classes: list[str]) -> dict:
        """mIoU and per-class IoU in percent, object and background precision, recall and
        coverage (labelled_fraction), over all images and per image group, and the matrix."""
        return {"stage": stage, "split": split, "n_images": sum(self.counts.values()),
                **_scores(self.all, classes),
                "groups": {name: {"n_images": self.counts[name],
                                  **{k: v for k, v in _scores(self.groups[name], classes).items()
                                     if k != "confusion"}}
                           for name in IMAGE_GROUPS}}


def _scores(confusion: ConfusionMatrix, classes: list[str]) -> dict:
    summary = confusion.summary(classes)
    summary.update({k: 100.0 * v for k, v in confusion.seed_scores().items()})
    return summary


def no_masks(out: str, stage: str, split: str) -> dict:
    """What a stage's metrics say on a dataset without ground truth: that there is none."""
    summary = {"stage": stage, "split": split, "no_masks": True}
    write_json(out, summary)
    return summary


def evaluate_stage(index: str, labels: list[str], out: str, *, stage: str, mask_dir: str | None,
                   superpixels: list[str] = ()) -> dict:
    """Scores of one stage's labels against the ground truth (see GroupedConfusion.summary).

    Superpixel-label stages (seeds, regions, refined) are painted onto the superpixels first.
    """
    if stage not in REGION_STAGES + PIXEL_STAGES:
        raise ValueError(f"cannot evaluate stage {stage!r}")
    dataset = DatasetIndex.load(index)
    if mask_dir is None:
        return no_masks(out, stage, dataset.split)
    truth = GroundTruth(mask_dir, dataset.n_classes)
    confusion = GroupedConfusion(dataset.n_classes)
    with contextlib.ExitStack() as stack:
        predictions = stack.enter_context(ArtifactReader(labels, stage))
        sps = None
        if stage in REGION_STAGES:
            sps = stack.enter_context(ArtifactReader(superpixels, SUPERPIXELS))
        for image_id in dataset.ids:
            if sps is None:
                pred = predictions.read(image_id, "mask")
            else:
                pred = paint(sps.read(image_id, "labels").astype(np.int64),
                             predictions.read(image_id, "labels"))
            confusion.add(truth.load(image_id), pred)
    summary = confusion.summary(stage, dataset.split, dataset.classes)
    write_json(out, summary)
    return summary


def evaluate_targets(index: str, labels: list[str], superpixels: list[str], out: str, *,
                     target: str, label_stage: str, min_label_confidence: float,
                     mask_dir: str | None) -> dict:
    """Scores of what PixelNet is trained on (pixels it ignores count as unlabelled)."""
    from mcof.steps.pixelnet import Targets

    dataset = DatasetIndex.load(index)
    if mask_dir is None:
        return no_masks(out, TARGETS, dataset.split)
    truth = GroundTruth(mask_dir, dataset.n_classes)
    targets = Targets(target, dataset, labels, label_stage, superpixels, min_label_confidence,
                      mask_dir=mask_dir)
    confusion = GroupedConfusion(dataset.n_classes)
    for image_id in dataset.ids:
        if dataset.labels[image_id]:
            confusion.add(truth.load(image_id), targets(image_id))
    summary = confusion.summary(TARGETS, dataset.split, dataset.classes)
    write_json(out, summary)
    return summary


def evaluate_saliency(index: str, saliency: list[str], out: str, *, mask_dir: str | None) -> dict:
    """F-measures and MAE of the saliency maps against the ground-truth foreground."""
    dataset = DatasetIndex.load(index)
    if mask_dir is None:
        return no_masks(out, SALIENCY, dataset.split)
    truth = GroundTruth(mask_dir, dataset.n_classes)
    scores = SaliencyScores()
    with ArtifactReader(saliency, SALIENCY) as maps:
        for image_id in dataset.ids:
            scores.add(maps.read(image_id, "saliency").astype(np.float32), truth.load(image_id))
    summary = scores.summary()
    write_json(out, summary)
    return summary


DIAGNOSTICS = ("object_precision", "object_recall", "background_precision", "labelled_fraction",
               "miou")
"""The per-stage scores that explain an iteration (coverage is labelled_fraction)."""


def summarize_iteration(stage_metrics: dict[str, str], metrics: str, miou: str, *,
                        iteration: int, reported_split: str, trainings: list[str] = (),
                        workflow_dir: str | None = None, config_sha256: str | None = None,
                        snakemake_version: str | None = None) -> dict:
    """metrics.json and miou.txt of one iteration of one run.

    metrics.json: train mIoU of every training-set stage (the paper's Table 3; the
    pseudo-labels' mIoU on the training set), mIoU and class IoU of every evaluation split, the
    diagnostics of every training-set stage (all images, single- and multi-class images), the
    train - val gap of PixelNet, and the run's record (mcof.record.run_record: package
    versions, the devices of the iteration's trainings from their history CSVs, the git
    commit of workflow_dir, the config's hash). miou.txt: one number, the mIoU (%) on the
    reported split (test where the dataset has one).
    """
    from mcof.record import run_record
    from mcof.training.history import read_history

    stages = {name: read_json(path) for name, path in stage_metrics.items()}
    evaluated = {s["split"]: s for s in stages.values() if s["split"] != "train"}
    train_stages = {name: s for name, s in stages.items() if s["split"] == "train"}
    report = {
        "iteration": iteration,
        "reported_split": reported_split,
        "miou": evaluated[reported_split]["miou"],
        **{f"{split}_miou": s["miou"] for split, s in evaluated.items()},
        **{f"{split}_iou": s["iou"] for split, s in evaluated.items()},
        "train_miou": {name: s["miou"] for name, s in train_stages.items()},
        "train_iou": {name: s["iou"] for name, s in train_stages.items()},
        "diagnostics": {
            name: {**{k: s[k] for k in DIAGNOSTICS},
                   **{group: {k: g[k] for k in ("n_images", *DIAGNOSTICS)}
                      for group, g in s["groups"].items()}}
            for name, s in train_stages.items()},
        "stages": {name: {k: v for k, v in s.items() if k != "confusion"} for name, s in stages.items()},
    }
    if TRAIN_MASKS in stages and "val" in evaluated:
        report["train_val_gap"] = stages[TRAIN_MASKS]["miou"] - evaluated["val"]["miou"]
    devices = {path: (read_history(path) or [{"device": None}])[-1]["device"] for path in trainings}
    report["run"] = run_record(workflow_dir=workflow_dir, config_sha256=config_sha256,
                               snakemake_version=snakemake_version, trainings=devices)
    write_json(metrics, report)
    value = report["miou"]
    write_text(miou, ("nan" if math.isnan(value) else f"{value:.2f}") + "\n")
    return report


def compare_runs(out: str, *, runs: dict[str, list[str]]) -> dict:
    """mIoU per iteration of every run on every evaluation split (reported split first).

    runs: run directory -> its metrics.json files, iteration 1 first.
    """
    table = {}
    for root, paths in runs.items():
        metrics = [read_json(p) for p in paths]
        split = metrics[0]["reported_split"]
        splits = [split, *sorted({k[:-5] for k in metrics[0] if k.endswith("_miou")
                                  and k != "train_miou" and k[:-5] != split})]
        table[root] = {
            "reported_split": split,
            **{f"{s}_miou": {m["iteration"]: m[f"{s}_miou"] for m in metrics} for s in splits},
            "train_miou": {m["iteration"]: m["train_miou"] for m in metrics},
            "last_miou": metrics[-1]["miou"],
        }
    write_json(out, {"runs": table})
    return table
