"""Rules train_regionnet and infer_regionnet."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mcof import IGNORE
from mcof.artifacts import ArtifactReader, ArtifactWriter, LazyReaders
from mcof.data.transforms import PAD_COLOUR, resize, to_float
from mcof.data.voc import DatasetIndex
from mcof.layout import REGIONNET, REGIONS, SEEDS, SUPERPIXELS
from mcof.models.regionnet import (RegionNet, keep_voted_objects, merge_with_seeds,
                                   restrict_to_labels)
from mcof.seeds import keep_classes
from mcof.shards import shard_ids
from mcof.steps import optional_path
from mcof.training.checkpoint import init_backbone, load_model
from mcof.training.device import choose_device, set_threads
from mcof.training.loop import Schedule, train_and_save

log = logging.getLogger(__name__)


class RegionSamples:
    """Training images with their superpixels and seed labels, flipped and rescaled at random."""

    def __init__(self, index: DatasetIndex, superpixel_paths: list[str], seed_paths: list[str],
                 scale_range: tuple[float, float]):
        self.index, self.scale_range = index, scale_range
        self.readers = LazyReaders(superpixels=(superpixel_paths, SUPERPIXELS),
                                   seeds=(seed_paths, SEEDS))
        self.ids = [i for i in index.ids if index.labels[i]]

    def __len__(self) -> int:
        return len(self.ids)

    def sample(self, i: int, rng: np.random.Generator) -> RegionSample:
        image_id = self.ids[i]
        image = self.index.load_image(image_id)
        superpixels = self.readers.superpixels.read(image_id, "labels").astype(np.int32)
        labels = self.readers.seeds.read(image_id, "labels").copy()
        scale = rng.uniform(*self.scale_range)
        h, w = max(8, round(image.shape[0] * scale)), max(8, round(image.shape[1] * scale))
        image, superpixels = resize(image, h, w, False), resize(superpixels, h, w, True)
        if rng.random() < 0.5:
            image, superpixels = image[:, ::-1], superpixels[:, ::-1]
        # a region that vanished in the resize has no pixels to pool: do not train on it
        sizes = np.bincount(superpixels.ravel(), minlength=len(labels))
        labels[sizes == 0] = IGNORE
        return RegionSample(to_float(image), np.ascontiguousarray(superpixels), labels, sizes)


@dataclass
class RegionSample:
    """One image for RegionNet: float32 [3, H, W] image, int [H, W] superpixel ids 0..S-1, and
    for training its seed labels uint8 [S] and region sizes [S] in pixels."""

    image: np.ndarray
    superpixels: np.ndarray
    labels: np.ndarray | None = None
    sizes: np.ndarray | None = None

    @property
    def n_regions(self) -> int:
        return len(self.labels) if self.labels is not None else int(self.superpixels.max()) + 1


def collate_regions(samples: list[RegionSample]) -> dict:
    """Batch samples: images padded with the mean colour, superpixel maps with -1, region ids
    offset so that all images' regions are numbered apart."""
    hh = max(s.image.shape[1] for s in samples)
    ww = max(s.image.shape[2] for s in samples)
    images = np.broadcast_to(PAD_COLOUR[None, :, None, None], (len(samples), 3, hh, ww)).copy()
    superpixels = np.full((len(samples), hh, ww), -1, dtype=np.int64)
    offsets, start = [], 0
    for k, sample in enumerate(samples):
        images[k, :, : sample.image.shape[1], : sample.image.shape[2]] = sample.image
        superpixels[k, : sample.superpixels.shape[0], : sample.superpixels.shape[1]] = sample.superpixels
        offsets.append(start)
        start += sample.n_regions
    batch = {"images": torch.from_numpy(images), "superpixels": torch.from_numpy(superpixels),
             "offsets": torch.tensor(offsets), "n_regions": start}
    if samples[0].labels is not None:
        batch["labels"] = torch.from_numpy(np.concatenate([s.labels for s in samples]).astype(np.int64))
        batch["sizes"] = torch.from_numpy(np.concatenate([s.sizes for s in samples]).astype(np.float32))
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


def train_regionnet(index: str, superpixels: list[str], seeds: list[str], model: str, *,
                    init: str | list[str] | None, checkpoint_dir: str, backbone: str,
                    weights: str, pooled: str, loss_weighting: str, hidden: int, epochs: int,
                    batch_size: int, lr: float, weight_decay: float, scale: list[float], seed: int,
                    output_stride: int | None = None, device: str = "auto", threads: int = 1,
                    workers: int = 0, amp: bool = True, history: str | None = None,
                    weights_file: str | list[str] | None = None) -> list[dict]:
    """Train RegionNet on the labelled seeds (unlabelled regions are not trained on).

    init: the classifier or a PixelNet whose backbone RegionNet starts from, or None.
    history: its per-epoch CSV; weights_file: the weights file when `weights` is one.
    """
    set_threads(threads)
    dataset = DatasetIndex.load(index)
    init = optional_path(init)
    torch.manual_seed(seed)
    net = RegionNet(dataset.n_classes, backbone, weights, hidden=hidden,
                    output_stride=output_stride, pooled=pooled)
    if init:
        init_backbone(net.features, backbone, init)
    schedule = Schedule(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                        seed=seed)
    return train_and_save(
        net, RegionSamples(dataset, superpixels, seeds, tuple(scale)), region_step(loss_weighting),
        collate=collate_regions, model_path=model, checkpoint_dir=checkpoint_dir,
        schedule=schedule,
        inputs=[index, *superpixels, *seeds, *filter(None, [init, optional_path(weights_file)])],
        settings={"weights": weights, "scale": list(scale), "loss_weighting": loss_weighting},
        device=device, workers=workers, amp=amp, desc="regionnet", history=history)


@torch.no_grad()
def infer_regionnet(index: str, model: str, superpixels: str, seeds: str, out: str, *, shard: int,
                    n_shards: int, seed_override: float | None = None,
                    keep_mask_objects: float | None = None,
                    keep_every_class: bool = False, batch_size: int = 8,
                    device: str = "auto", threads: int = 1) -> None:
    """Classify every superpixel of the shard's images -> labels [S], scores [S, K+1],
    confidence [S] (see merge_with_seeds for seed_override).

    Only background and the image's own labels can be chosen; keep_mask_objects (seeds
    from PixelNet's masks, which carry its votes): a region the mask called an object stays one
    unless RegionNet's background probability reaches this (mcof.models.regionnet.
    keep_voted_objects); keep_every_class: each labelled class keeps at least its most probable
    region (mcof.seeds.keep_classes).
    """
    set_threads(threads)
    dataset = DatasetIndex.load(index)
    dev = choose_device(device)
    net = load_model(model, REGIONNET, n_classes=dataset.n_classes).to(dev).eval()
    ids = shard_ids(dataset.ids, shard, n_shards)
    params = {"model": Path(model).name, "seed_override": seed_override,
              "keep_mask_objects": keep_mask_objects,
              "keep_every_class": keep_every_class}
    with ArtifactReader(superpixels, SUPERPIXELS) as sps, ArtifactReader(seeds, SEEDS) as seed_labels, \
            ArtifactWriter(out, REGIONS, params) as regions:
        for start in range(0, len(ids), batch_size):
            chunk = ids[start:start + batch_size]
            samples = [RegionSample(to_float(dataset.load_image(i)),
                                    sps.read(i, "labels").astype(np.int64)) for i in chunk]
            batch = collate_regions(samples)
            logits = net(batch["images"].to(dev), batch["superpixels"].to(dev),
                           batch["offsets"].to(dev), batch["n_regions"])
            bounds = [*batch["offsets"].tolist(), batch["n_regions"]]
            for k, image_id in enumerate(chunk):
                part = logits[bounds[k]:bounds[k + 1]]
                allowed = torch.zeros(part.shape, dtype=torch.bool, device=dev)
                allowed[:, [0, *dataset.labels[image_id]]] = True
                probs = restrict_to_labels(part, allowed).cpu().numpy()
                seeds = seed_labels.read(image_id, "labels")
                labels, confidence = merge_with_seeds(seeds, probs, seed_override)
                if keep_mask_objects is not None:
                    labels, confidence = keep_voted_objects(
                        labels, confidence, seeds, seed_labels.read(image_id, "votes"), probs,
                        keep_mask_objects)
                classes = dataset.labels[image_id]
                if keep_every_class and classes:
                    kept = keep_classes(labels, classes, probs[:, classes])
                    own = probs[np.arange(len(kept)), kept]
                    confidence = np.where(kept != labels, own, confidence).astype(np.float32)
                    labels = kept
                regions.write(image_id, labels=labels, scores=probs.astype(np.float16),
                          confidence=confidence.astype(np.float16))
