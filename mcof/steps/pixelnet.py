"""Rules train_pixelnet and predict_pixelnet."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mcof import IGNORE
from mcof.artifacts import ArtifactReader, ArtifactWriter
from mcof.crf import CRFSettings
from mcof.data.transforms import random_scale_crop
from mcof.data.voc import DatasetIndex
from mcof.models.deeplab import BACKBONE_OF, PixelNet
from mcof.predict import class_probabilities
from mcof.seeds import paint
from mcof.shards import shard_ids
from mcof.steps import file_identity
from mcof.training.checkpoint import (EpochCheckpoints, init_backbone_from_classifier, load_model,
                                      save_model)
from mcof.training.device import choose_device, set_threads
from mcof.training.loop import Schedule, fit

log = logging.getLogger(__name__)

TARGETS = ("regions", "masks", "ground_truth")


class Targets:
    """Training masks for PixelNet: uint8 [H, W], 255 = not trained on.

    kind 'regions': superpixel labels (stage label_stage) painted onto the superpixels;
    'masks': pixel masks of a previous PixelNet (stage train_masks); 'ground_truth': the
    dataset's own masks (the fully supervised upper bound). With min_confidence, regions
    (RegionNet's) and pixels (PixelNet's) predicted less confidently are not trained on.
    """

    def __init__(self, kind: str, index: DatasetIndex, label_paths: list[str] = (),
                 label_stage: str = "", superpixel_paths: list[str] = (),
                 min_confidence: float = 0.0):
        if kind not in TARGETS:
            raise ValueError(f"unknown PixelNet target {kind!r}; choose one of {', '.join(TARGETS)}")
        self.kind, self.index = kind, index
        self.label_paths, self.label_stage = list(label_paths), label_stage
        self.superpixel_paths = list(superpixel_paths)
        self.min_confidence = min_confidence
        self._readers, self._pid = None, None

    def _open(self):
        if self._pid != os.getpid():
            labels = ArtifactReader(self.label_paths, self.label_stage) if self.label_paths else None
            sps = ArtifactReader(self.superpixel_paths, "superpixels") if self.kind == "regions" else None
            self._readers, self._pid = (labels, sps), os.getpid()
        return self._readers

    def __call__(self, image_id: str) -> np.ndarray:
        if self.kind == "ground_truth":
            return self.index.load_mask(image_id)
        labels, sps = self._open()
        if self.kind == "masks":
            mask = labels.read(image_id, "mask")
            if self.min_confidence > 0:
                mask = np.where(labels.read(image_id, "confidence") >= self.min_confidence, mask, IGNORE)
            return mask
        region_labels = labels.read(image_id, "labels")
        if self.min_confidence > 0 and self.label_stage == "regions":
            region_labels = np.where(labels.read(image_id, "confidence") >= self.min_confidence,
                                     region_labels, IGNORE).astype(np.uint8)
        return paint(sps.read(image_id, "labels").astype(np.int64), region_labels)


class SegmentationSamples:
    """Augmented (image, target mask) crops of the labelled training images."""

    def __init__(self, index: DatasetIndex, targets: Targets, crop: int,
                 scale_range: tuple[float, float]):
        self.index, self.targets, self.crop, self.scale_range = index, targets, crop, scale_range
        self.ids = [i for i in index.ids if index.labels[i]]

    def __len__(self) -> int:
        return len(self.ids)

    def sample(self, i: int, rng: np.random.Generator):
        image_id = self.ids[i]
        image, mask = random_scale_crop(self.index.load_image(image_id), self.targets(image_id),
                                        rng, self.scale_range, self.crop, flip=True)
        return torch.from_numpy(image), torch.from_numpy(mask.astype(np.int64))


def _segmentation_step(model, batch, device):
    images, masks = (t.to(device, non_blocking=True) for t in batch)
    if device.type == "cuda":
        images = images.contiguous(memory_format=torch.channels_last)
    logits = model(images)
    loss = F.cross_entropy(logits.float(), masks, ignore_index=IGNORE)
    labelled = masks != IGNORE
    # max().indices, not argmax(): over the channel axis of NCHW logits torch's argmax is
    # about 15x slower on the CPU, a third of a training step at 96 px
    correct = (logits.detach().max(1).indices == masks)[labelled].sum()
    return loss, {"correct": correct, "total": int(labelled.sum())}


def train_pixelnet(index_path: str, model_path: str, checkpoint_dir: str, *, target: str,
                   label_paths: list[str], label_stage: str, superpixel_paths: list[str],
                   arch: str, weights: str, classifier_path: str | None, epochs: int, batch_size: int, lr: float,
                   weight_decay: float, crop: int, scale_range: tuple[float, float], seed: int,
                   min_confidence: float = 0.0, device: str = "auto", threads: int = 1, workers: int = 0,
                   amp: bool = True, previous_path: str | None = None) -> list[dict]:
    """Train PixelNet with cross-entropy on the given targets (255 ignored) and save it.

    previous_path: start from this PixelNet (the previous iteration's) instead of the classifier.
    """
    set_threads(threads)
    index = DatasetIndex.load(index_path)
    torch.manual_seed(seed)
    model = PixelNet(index.n_classes, arch, weights)
    if previous_path:
        model.load_state_dict(load_model(previous_path, "pixelnet", n_classes=index.n_classes).state_dict())
    elif classifier_path:
        init_backbone_from_classifier(model.features, BACKBONE_OF[arch], classifier_path)
    targets = Targets(target, index, label_paths, label_stage, superpixel_paths, min_confidence)
    schedule = Schedule(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                        seed=seed)
    signature = {"arch": model.arch, "weights": weights, "schedule": schedule.__dict__,
                 "crop": crop, "scale": list(scale_range), "target": target,
                 "min_confidence": min_confidence,
                 "inputs": file_identity(index_path, *label_paths, *superpixel_paths,
                                         *([classifier_path] if classifier_path else []),
                                         *([previous_path] if previous_path else []))}
    history = fit(model, SegmentationSamples(index, targets, crop, tuple(scale_range)), None,
                  _segmentation_step, model.param_groups(), schedule,
                  EpochCheckpoints(checkpoint_dir, signature), choose_device(device),
                  workers=workers, amp=amp, desc="pixelnet")
    save_model(model_path, model.cpu(), history=history)
    return history


@torch.no_grad()
def predict_pixelnet(index_path: str, model_path: str, out_path: str, *, stage: str, shard: int,
                     n_shards: int, restrict: bool, flip: bool = True, device: str = "auto",
                     threads: int = 1, crf: dict | None = None) -> None:
    """Masks of the shard's images -> mask uint8 [H, W], confidence float16 [H, W].

    restrict: only background and the image's labels may be predicted (training images, where
    the labels are known); off for validation images. crf: dense CRF settings, or None for none.
    """
    set_threads(threads)
    index = DatasetIndex.load(index_path)
    dev = choose_device(device)
    model = load_model(model_path, "pixelnet", n_classes=index.n_classes).to(dev).eval()
    crf_settings = None if crf is None else CRFSettings(**crf)
    with ArtifactWriter(out_path, stage, {"model": Path(model_path).name, "flip": flip,
                                         "restrict": restrict, "crf": crf}) as out:
        for image_id in shard_ids(index.ids, shard, n_shards):
            allowed = [0, *index.labels[image_id]] if restrict else None
            probs = class_probabilities(model, index.load_image(image_id), dev, flip, allowed,
                                        crf_settings)
            confidence, mask = probs.max(dim=0)
            out.write(image_id, mask=mask.to(torch.uint8).cpu().numpy(),
                      confidence=confidence.cpu().numpy().astype(np.float16))
