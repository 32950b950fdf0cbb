"""Evaluation rules: per-shard confusion matrices, their summaries, and the iteration report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from mcof.artifacts import ArtifactReader
from mcof.data.voc import DatasetIndex
from mcof.metrics import ConfusionMatrix, SaliencyScores
from mcof.seeds import paint
from mcof.shards import shard_ids

REGION_STAGES = ("seeds", "regions", "refined")
MASK_STAGES = ("train_masks", "val_masks")


def _write_json(path: str, data: dict) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=1, allow_nan=True) + "\n")


def shard_confusion(index_path: str, labels_path: str, stage: str, out_path: str, *, shard: int,
                    n_shards: int, superpixels_path: str | None = None) -> None:
    """Confusion matrix of one stage's labels against the ground truth on one shard.

    Superpixel-label stages (seeds, regions, refined) are painted onto the superpixels first.
    """
    if stage not in REGION_STAGES + MASK_STAGES:
        raise ValueError(f"cannot evaluate stage {stage!r}")
    index = DatasetIndex.load(index_path)
    confusion = ConfusionMatrix(index.n_classes)
    ids = shard_ids(index.ids, shard, n_shards)
    with ArtifactReader(labels_path, stage) as labels:
        sps = ArtifactReader(superpixels_path, "superpixels") if stage in REGION_STAGES else None
        try:
            for image_id in ids:
                if sps is None:
                    pred = labels.read(image_id, "mask")
                else:
                    pred = paint(sps.read(image_id, "labels").astype(np.int64),
                                 labels.read(image_id, "labels"))
                confusion.add(index.load_mask(image_id), pred)
        finally:
            if sps is not None:
                sps.close()
    _write_json(out_path, {"stage": stage, "n_images": len(ids), "confusion": confusion.matrix.tolist()})


def summarize_confusions(index_path: str, confusion_paths: list[str], out_path: str) -> dict:
    """Sum the shards' matrices -> mIoU and per-class IoU in percent (+ seed precision/recall)."""
    index = DatasetIndex.load(index_path)
    total, n_images, stage = ConfusionMatrix(index.n_classes), 0, None
    for path in confusion_paths:
        part = json.loads(Path(path).read_text())
        stage = part["stage"]
        total.merge(ConfusionMatrix(index.n_classes, np.asarray(part["confusion"])))
        n_images += part["n_images"]
    summary = {"stage": stage, "split": index.split, "n_images": n_images,
               **total.summary(index.classes)}
    summary.update({k: 100.0 * v for k, v in total.seed_scores().items()})
    _write_json(out_path, summary)
    return summary


def shard_saliency_scores(index_path: str, saliency_path: str, out_path: str, *, shard: int,
                          n_shards: int) -> None:
    index = DatasetIndex.load(index_path)
    scores = SaliencyScores()
    with ArtifactReader(saliency_path, "saliency") as saliency:
        for image_id in shard_ids(index.ids, shard, n_shards):
            scores.add(saliency.read(image_id, "saliency").astype(np.float32),
                       index.load_mask(image_id))
    _write_json(out_path, scores.state())


def summarize_saliency(score_paths: list[str], out_path: str) -> dict:
    total = SaliencyScores()
    for path in score_paths:
        total.merge(SaliencyScores.from_state(json.loads(Path(path).read_text())))
    summary = total.summary()
    _write_json(out_path, summary)
    return summary


def summarize_iteration(iteration: int, stage_metrics: dict[str, str], out_metrics: str,
                        out_miou: str) -> dict:
    """metrics.json (the paper's Table 3 for this run: train mIoU per stage, val mIoU and
    per-class IoU) and miou.txt (one number: val mIoU in percent)."""
    stages = {name: json.loads(Path(path).read_text()) for name, path in stage_metrics.items()}
    val = stages["val_masks"]
    report = {
        "iteration": iteration,
        "val_miou": val["miou"],
        "val_iou": val["iou"],
        "train_miou": {name: s["miou"] for name, s in stages.items() if name != "val_masks"},
        "stages": {name: {k: v for k, v in s.items() if k != "confusion"} for name, s in stages.items()},
    }
    _write_json(out_metrics, report)
    miou = val["miou"]
    Path(out_miou).write_text(("nan" if math.isnan(miou) else f"{miou:.2f}") + "\n")
    return report


def compare_runs(runs: dict[str, list[str]], out_path: str) -> dict:
    """Val mIoU per iteration of every run, and each run's last iteration against the first.

    runs: run directory -> its metrics.json files, iteration 1 first.
    """
    table = {}
    for root, paths in runs.items():
        metrics = [json.loads(Path(p).read_text()) for p in paths]
        table[root] = {
            "val_miou": {m["iteration"]: m["val_miou"] for m in metrics},
            "train_miou": {m["iteration"]: m["train_miou"] for m in metrics},
            "last_val_miou": metrics[-1]["val_miou"],
        }
    _write_json(out_path, {"runs": table})
    return table
