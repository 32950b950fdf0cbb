"""Rules train_classifier and make_cams."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mcof.artifacts import ArtifactWriter
from mcof.data.transforms import random_scale_crop, to_float
from mcof.data.voc import DatasetIndex
from mcof.models.classifier import Classifier, compute_cams
from mcof.shards import shard_ids
from mcof.steps import optional_path
from mcof.layout import CAMS, CLASSIFIER
from mcof.training.checkpoint import load_model
from mcof.training.device import choose_device, set_threads
from mcof.training.loop import Schedule, train_and_save

log = logging.getLogger(__name__)


class ClassificationSamples:
    """Augmented training images with their multi-hot labels; unlabelled images are skipped."""

    def __init__(self, index: DatasetIndex, crop: int | None, scale_range: tuple[float, float]):
        self.index, self.crop, self.scale_range = index, crop, scale_range
        self.ids = [i for i in index.ids if index.labels[i]]
        if len(self.ids) < len(index.ids):
            log.warning("skipping %d training image(s) without labels", len(index.ids) - len(self.ids))

    def __len__(self) -> int:
        return len(self.ids)

    def sample(self, i: int, rng: np.random.Generator):
        image_id = self.ids[i]
        image, _ = random_scale_crop(self.index.load_image(image_id), None, rng,
                                     self.scale_range, self.crop, flip=True)
        return torch.from_numpy(image), torch.from_numpy(self.index.label_vector(image_id))


def _classification_step(model, batch, device):
    images, targets = (t.to(device, non_blocking=True) for t in batch)
    logits = model(images)
    loss = F.multilabel_soft_margin_loss(logits.float(), targets)
    correct = ((logits > 0).float() == targets).all(dim=1).sum()
    return loss, {"correct": correct, "total": len(targets)}


def train_classifier(index: str, model: str, *, checkpoint_dir: str, backbone: str, weights: str,
                     output_stride: int | None, epochs: int, batch_size: int, lr: float,
                     weight_decay: float, crop: int | None, scale: list[float], seed: int,
                     device: str = "auto", threads: int = 1, workers: int = 0,
                     amp: bool = True, history: str | None = None,
                     weights_file: str | list[str] | None = None) -> list[dict]:
    """Train the multi-label classifier (soft-margin BCE over image labels) and save it.

    history: its per-epoch CSV; weights_file: the weights file when `weights` is one (a
    declared input, part of what a resumable checkpoint must match).
    """
    set_threads(threads)
    dataset = DatasetIndex.load(index)
    torch.manual_seed(seed)
    net = Classifier(dataset.n_classes - 1, backbone, weights, output_stride)
    schedule = Schedule(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                        seed=seed)
    return train_and_save(
        net, ClassificationSamples(dataset, crop, tuple(scale)), _classification_step,
        model_path=model, checkpoint_dir=checkpoint_dir, schedule=schedule,
        inputs=[index, *filter(None, [optional_path(weights_file)])],
        settings={"weights": weights, "crop": crop, "scale": list(scale)}, device=device,
        workers=workers, amp=amp, desc="classifier", history=history)


@torch.no_grad()
def make_cams(index: str, model: str, out: str, *, shard: int, n_shards: int,
              scales: list[float], flip: bool, device: str = "auto", threads: int = 1) -> None:
    """CAMs of each labelled class of every image in the shard -> cams [n, H, W], classes [n]."""
    set_threads(threads)
    dataset = DatasetIndex.load(index)
    dev = choose_device(device)
    net = load_model(model, CLASSIFIER, n_classes=dataset.n_classes - 1).to(dev).eval()
    params = {"model": Path(model).name, "scales": list(scales), "flip": flip}
    with ArtifactWriter(out, CAMS, params) as cams_out:
        for image_id in shard_ids(dataset.ids, shard, n_shards):
            labels = dataset.labels[image_id]
            image = torch.from_numpy(to_float(dataset.load_image(image_id))).to(dev)
            cams = compute_cams(net, image, [c - 1 for c in labels], tuple(scales), flip)
            cams_out.write(image_id, cams=cams.cpu().numpy().astype(np.float16),
                      classes=np.asarray(labels, dtype=np.uint8))
