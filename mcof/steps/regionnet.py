"""Rules train_regionnet and infer_regionnet."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mcof import IGNORE
from mcof.artifacts import ArtifactReader, ArtifactWriter
from mcof.data.transforms import PAD_COLOUR, resize, to_float
from mcof.data.voc import DatasetIndex
from mcof.models.regionnet import RegionNet, merge_with_seeds, restrict_to_labels
from mcof.shards import shard_ids
from mcof.steps import file_identity
from mcof.training.checkpoint import (EpochCheckpoints, init_backbone_from_classifier, load_model,
                                      save_model)
from mcof.training.device import choose_device, set_threads
from mcof.training.loop import Schedule, fit

log = logging.getLogger(__name__)


class RegionSamples:
    """Training images with their superpixels and seed labels, flipped and rescaled at random.

    HDF5 handles are opened lazily in the process that reads (they cannot cross a fork).
    """

    def __init__(self, index: DatasetIndex, superpixel_paths: list[str], seed_paths: list[str],
                 scale_range: tuple[float, float]):
        self.index, self.scale_range = index, scale_range
        self.superpixel_paths, self.seed_paths = superpixel_paths, seed_paths
        self.ids = [i for i in index.ids if index.labels[i]]
        self._readers, self._pid = None, None

    def __len__(self) -> int:
        return len(self.ids)

    def readers(self) -> tuple[ArtifactReader, ArtifactReader]:
        if self._pid != os.getpid():
            self._readers = (ArtifactReader(self.superpixel_paths, "superpixels"),
                             ArtifactReader(self.seed_paths, "seeds"))
            self._pid = os.getpid()
        return self._readers

    def sample(self, i: int, rng: np.random.Generator):
        image_id = self.ids[i]
        sps, seeds = self.readers()
        image = self.index.load_image(image_id)
        superpixels = sps.read(image_id, "labels").astype(np.int32)
        labels = seeds.read(image_id, "labels").copy()
        scale = rng.uniform(*self.scale_range)
        h, w = max(8, round(image.shape[0] * scale)), max(8, round(image.shape[1] * scale))
        image, superpixels = resize(image, h, w, False), resize(superpixels, h, w, True)
        if rng.random() < 0.5:
            image, superpixels = image[:, ::-1], superpixels[:, ::-1]
        # a region that vanished in the resize has no pixels to pool: do not train on it
        sizes = np.bincount(superpixels.ravel(), minlength=len(labels))
        labels[sizes == 0] = IGNORE
        return to_float(image), np.ascontiguousarray(superpixels), labels, sizes


def collate_regions(samples):
    """Batch (image, superpixels[, labels, sizes]) samples: images padded with the mean colour,
    superpixel maps with -1, region ids offset so that all images' regions are numbered apart."""
    hh = max(s[0].shape[1] for s in samples)
    ww = max(s[0].shape[2] for s in samples)
    images = np.broadcast_to(PAD_COLOUR[None, :, None, None], (len(samples), 3, hh, ww)).copy()
    superpixels = np.full((len(samples), hh, ww), -1, dtype=np.int64)
    offsets, start = [], 0
    for k, (image, sp, *_) in enumerate(samples):
        images[k, :, : image.shape[1], : image.shape[2]] = image
        superpixels[k, : sp.shape[0], : sp.shape[1]] = sp
        offsets.append(start)
        start += int(sp.max()) + 1 if len(samples[k]) == 2 else len(samples[k][2])
    batch = {"images": torch.from_numpy(images), "superpixels": torch.from_numpy(superpixels),
             "offsets": torch.tensor(offsets), "n_regions": start}
    if len(samples[0]) == 4:
        batch["labels"] = torch.from_numpy(np.concatenate([s[2] for s in samples]).astype(np.int64))
        batch["sizes"] = torch.from_numpy(np.concatenate([s[3] for s in samples]).astype(np.float32))
    return batch


def region_loss(logits: torch.Tensor, target: torch.Tensor, sizes: torch.Tensor,
                weighting: str) -> torch.Tensor:
    """Cross-entropy over labelled regions, each weighted by its pixel count ('area', the
    pixel-level objective that mIoU scores) or equally ('uniform')."""
    labelled = target != IGNORE
    per_region = F.cross_entropy(logits.float(), target.masked_fill(~labelled, 0), reduction="none")
    weight = (sizes if weighting == "area" else torch.ones_like(sizes)) * labelled
    return (per_region * weight).sum() / weight.sum().clamp_min(1e-6)


def region_step(weighting: str):
    def step(model, batch, device):
        logits = model(batch["images"].to(device, non_blocking=True),
                       batch["superpixels"].to(device, non_blocking=True),
                       batch["offsets"].to(device), batch["n_regions"])
        target = batch["labels"].to(device)
        labelled = target != IGNORE
        loss = region_loss(logits, target, batch["sizes"].to(device), weighting)
        correct = (logits.argmax(1) == target)[labelled].sum()
        return loss, {"correct": correct, "total": int(labelled.sum())}
    return step


def train_regionnet(index_path: str, superpixel_paths: list[str], seed_paths: list[str],
                    model_path: str, checkpoint_dir: str, *, backbone: str, weights: str,
                    classifier_path: str | None, epochs: int, batch_size: int, lr: float,
                    weight_decay: float, scale_range: tuple[float, float], seed: int,
                    hidden: int = 256, output_stride: int | None = None, pooled: str = "both",
                    loss_weighting: str = "area", device: str = "auto",
                    threads: int = 1, workers: int = 0, amp: bool = True) -> list[dict]:
    """Train RegionNet on the labelled seeds (unlabelled regions are not trained on)."""
    set_threads(threads)
    index = DatasetIndex.load(index_path)
    torch.manual_seed(seed)
    model = RegionNet(index.n_classes, backbone, weights, hidden=hidden,
                      output_stride=output_stride, pooled=pooled)
    if classifier_path:
        init_backbone_from_classifier(model.features, backbone, classifier_path)
    schedule = Schedule(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                        seed=seed)
    inputs = [index_path, *superpixel_paths, *seed_paths] + ([classifier_path] if classifier_path else [])
    signature = {"arch": model.arch, "weights": weights, "schedule": schedule.__dict__,
                 "scale": list(scale_range), "loss_weighting": loss_weighting,
                 "inputs": file_identity(*inputs)}
    samples = RegionSamples(index, superpixel_paths, seed_paths, tuple(scale_range))
    history = fit(model, samples, collate_regions, region_step(loss_weighting), model.param_groups(), schedule,
                  EpochCheckpoints(checkpoint_dir, signature), choose_device(device),
                  workers=workers, amp=amp, desc="regionnet")
    save_model(model_path, model.cpu(), history=history)
    return history


@torch.no_grad()
def infer_regionnet(index_path: str, model_path: str, superpixels_path: str, seeds_path: str,
                    out_path: str, *, shard: int, n_shards: int, seed_override: float | None = None,
                    batch_size: int = 8, device: str = "auto", threads: int = 1) -> None:
    """Classify every superpixel of the shard's images -> labels [S], scores [S, K+1],
    confidence [S] (see merge_with_seeds for seed_override).

    Only background and the image's own labels can be chosen.
    """
    set_threads(threads)
    index = DatasetIndex.load(index_path)
    dev = choose_device(device)
    model = load_model(model_path, "regionnet", n_classes=index.n_classes).to(dev).eval()
    ids = shard_ids(index.ids, shard, n_shards)
    params = {"model": Path(model_path).name, "seed_override": seed_override}
    with ArtifactReader(superpixels_path, "superpixels") as sps, \
            ArtifactReader(seeds_path, "seeds") as seeds, \
            ArtifactWriter(out_path, "regions", params) as out:
        for start in range(0, len(ids), batch_size):
            chunk = ids[start:start + batch_size]
            samples = [(to_float(index.load_image(i)), sps.read(i, "labels").astype(np.int64))
                       for i in chunk]
            batch = collate_regions(samples)
            logits = model(batch["images"].to(dev), batch["superpixels"].to(dev),
                           batch["offsets"].to(dev), batch["n_regions"])
            bounds = [*batch["offsets"].tolist(), batch["n_regions"]]
            for k, image_id in enumerate(chunk):
                part = logits[bounds[k]:bounds[k + 1]]
                allowed = torch.zeros(part.shape, dtype=torch.bool, device=dev)
                allowed[:, [0, *index.labels[image_id]]] = True
                probs = restrict_to_labels(part, allowed).cpu().numpy()
                labels, confidence = merge_with_seeds(seeds.read(image_id, "labels"), probs,
                                                      seed_override)
                out.write(image_id, labels=labels, scores=probs.astype(np.float16),
                          confidence=confidence.astype(np.float16))
