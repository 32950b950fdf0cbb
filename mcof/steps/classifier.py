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
from mcof.steps import file_identity
from mcof.training.checkpoint import EpochCheckpoints, load_model, save_model
from mcof.training.device import choose_device, set_threads
from mcof.training.loop import Schedule, fit

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


def train_classifier(index_path: str, model_path: str, checkpoint_dir: str, *, backbone: str,
                     weights: str, epochs: int, batch_size: int, lr: float, weight_decay: float,
                     crop: int | None, scale_range: tuple[float, float], seed: int,
                     output_stride: int | None = None,
                     device: str = "auto", threads: int = 1, workers: int = 0,
                     amp: bool = True) -> list[dict]:
    """Train the multi-label classifier (soft-margin BCE over image labels) and save it."""
    set_threads(threads)
    index = DatasetIndex.load(index_path)
    torch.manual_seed(seed)
    model = Classifier(index.n_classes - 1, backbone, weights, output_stride)
    schedule = Schedule(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                        seed=seed)
    signature = {"arch": model.arch, "weights": weights, "schedule": schedule.__dict__,
                 "crop": crop, "scale": list(scale_range), "inputs": file_identity(index_path)}
    history = fit(model, ClassificationSamples(index, crop, tuple(scale_range)), None,
                  _classification_step, model.param_groups(), schedule,
                  EpochCheckpoints(checkpoint_dir, signature), choose_device(device),
                  workers=workers, amp=amp, desc="classifier")
    save_model(model_path, model.cpu(), history=history)
    return history


@torch.no_grad()
def make_cams(index_path: str, model_path: str, out_path: str, *, shard: int, n_shards: int,
              scales: list[float], flip: bool, device: str = "auto", threads: int = 1) -> None:
    """CAMs of each labelled class of every image in the shard -> cams [n, H, W], classes [n]."""
    set_threads(threads)
    index = DatasetIndex.load(index_path)
    dev = choose_device(device)
    model = load_model(model_path, "classifier", n_classes=index.n_classes - 1).to(dev).eval()
    params = {"model": Path(model_path).name, "scales": scales, "flip": flip}
    with ArtifactWriter(out_path, "cams", params) as out:
        for image_id in shard_ids(index.ids, shard, n_shards):
            labels = index.labels[image_id]
            image = torch.from_numpy(to_float(index.load_image(image_id))).to(dev)
            cams = compute_cams(model, image, [c - 1 for c in labels], tuple(scales), flip)
            out.write(image_id, cams=cams.cpu().numpy().astype(np.float16),
                      classes=np.asarray(labels, dtype=np.uint8))
