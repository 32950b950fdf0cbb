"""Rules train_pixelnet and predict_pixelnet."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mcof import IGNORE
from mcof.artifacts import ArtifactWriter, LazyReaders
from mcof.crf import CRFSettings
from mcof.data.transforms import random_scale_crop
from mcof.data.voc import DatasetIndex, GroundTruth
from mcof.layout import PIXELNET, REGIONS, SUPERPIXELS
from mcof.models import BACKBONE_OF
from mcof.models.deeplab import PixelNet
from mcof.plan import GROUND_TRUTH, PIXEL_MASKS, SUPERPIXEL_LABELS, TARGET_KINDS
from mcof.predict import class_probabilities
from mcof.shards import shard_ids
from mcof.steps import optional_path
from mcof.superpixels import paint
from mcof.training.checkpoint import init_backbone, load_model
from mcof.training.device import choose_device, set_threads
from mcof.training.loop import Schedule, train_and_save

log = logging.getLogger(__name__)

class Targets:
    """Training masks for PixelNet: uint8 [H, W], 255 = not trained on.

    kind superpixel_labels: a region stage's labels (label_stage: regions or refined) painted
    onto the superpixels; pixel_masks: a previous PixelNet's masks (train_masks);
    ground_truth: the dataset's own masks (the fully supervised upper bound). With
    min_confidence, regions (RegionNet's) and pixels (PixelNet's) predicted less confidently are
    not trained on.
    """

    def __init__(self, kind: str, index: DatasetIndex, label_paths: list[str] = (),
                 label_stage: str = "", superpixel_paths: list[str] = (),
                 min_confidence: float = 0.0, mask_dir: str | None = None):
        if kind not in TARGET_KINDS:
            raise ValueError(f"unknown PixelNet target {kind!r}; choose one of {', '.join(TARGET_KINDS)}")
        self.kind, self.index = kind, index
        self.label_stage = label_stage
        self.min_confidence = min_confidence
        sources = {}
        if kind != GROUND_TRUTH:
            sources["labels"] = (label_paths, label_stage)
        if kind == SUPERPIXEL_LABELS:
            sources["superpixels"] = (superpixel_paths, SUPERPIXELS)
        self.readers = LazyReaders(**sources)
        if kind == GROUND_TRUTH and not mask_dir:
            raise ValueError("PixelNet on the ground truth needs the masks' directory")
        self.truth = GroundTruth(mask_dir, index.n_classes) if kind == GROUND_TRUTH else None

    def __call__(self, image_id: str) -> np.ndarray:
        if self.truth is not None:
            return self.truth.load(image_id)
        labels = self.readers.labels
        if self.kind == PIXEL_MASKS:
            mask = labels.read(image_id, "mask")
            if self.min_confidence > 0:
                mask = np.where(labels.read(image_id, "confidence") >= self.min_confidence, mask, IGNORE)
            return mask
        region_labels = labels.read(image_id, "labels")
        if self.min_confidence > 0 and self.label_stage == REGIONS:
            region_labels = np.where(labels.read(image_id, "confidence") >= self.min_confidence,
                                     region_labels, IGNORE).astype(np.uint8)
        return paint(self.readers.superpixels.read(image_id, "labels").astype(np.int64), region_labels)


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


def train_pixelnet(index: str, labels: list[str], superpixels: list[str], model: str, *,
                   classifier: str | list[str] | None, previous: str | list[str] | None,
                   checkpoint_dir: str, target: str, label_stage: str, arch: str, weights: str,
                   epochs: int, batch_size: int, lr: float, weight_decay: float, crop: int,
                   scale: list[float], min_label_confidence: float, seed: int,
                   mask_dir: str | None = None, device: str = "auto", threads: int = 1,
                   workers: int = 0, amp: bool = True, history: str | None = None,
                   weights_file: str | list[str] | None = None) -> list[dict]:
    """Train PixelNet with cross-entropy on the given targets (255 ignored) and save it.

    previous: start from this PixelNet (the previous iteration's) instead of the classifier.
    mask_dir: the ground truth, read only when target is ground_truth (the upper bound).
    history: its per-epoch CSV; weights_file: the weights file when `weights` is one.
    """
    set_threads(threads)
    dataset = DatasetIndex.load(index)
    classifier, previous = optional_path(classifier), optional_path(previous)
    torch.manual_seed(seed)
    net = PixelNet(dataset.n_classes, arch, weights)
    if previous:
        net.load_state_dict(load_model(previous, PIXELNET, n_classes=dataset.n_classes).state_dict())
    elif classifier:
        init_backbone(net.features, BACKBONE_OF[arch], classifier)
    targets = Targets(target, dataset, labels, label_stage, superpixels, min_label_confidence,
                      mask_dir if target == GROUND_TRUTH else None)
    schedule = Schedule(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                        seed=seed)
    inputs = [index, *labels, *superpixels,
              *filter(None, [classifier, previous, optional_path(weights_file)])]
    return train_and_save(
        net, SegmentationSamples(dataset, targets, crop, tuple(scale)), _segmentation_step,
        model_path=model, checkpoint_dir=checkpoint_dir, schedule=schedule, inputs=inputs,
        settings={"weights": weights, "crop": crop, "scale": list(scale), "target": target,
                  "min_confidence": min_label_confidence},
        device=device, workers=workers, amp=amp, desc="pixelnet", history=history)


@torch.no_grad()
def predict_pixelnet(index: str, model: str, out: str, *, stage: str, shard: int,
                     n_shards: int, restrict: bool, flip: bool = True, device: str = "auto",
                     threads: int = 1, crf: dict | None = None,
                     scales: list[float] = (1.0,)) -> None:
    """Masks of the shard's images -> mask uint8 [H, W], confidence float16 [H, W].

    restrict: only background and the image's labels may be predicted (training images, where
    the labels are known); off for validation images. crf: dense CRF settings, or None for none.
    scales: multi-scale inference, probabilities averaged over the image scales
    (mcof.predict.class_probabilities).
    """
    set_threads(threads)
    dataset = DatasetIndex.load(index)
    dev = choose_device(device)
    net = load_model(model, PIXELNET, n_classes=dataset.n_classes).to(dev).eval()
    crf_settings = None if crf is None else CRFSettings(**crf)
    params = {"model": Path(model).name, "flip": flip, "restrict": restrict, "crf": crf,
              "scales": list(scales)}
    with ArtifactWriter(out, stage, params) as masks:
        for image_id in shard_ids(dataset.ids, shard, n_shards):
            allowed = [0, *dataset.labels[image_id]] if restrict else None
            probs = class_probabilities(net, dataset.load_image(image_id), dev, flip, allowed,
                                        crf_settings, scales=tuple(scales))
            confidence, mask = probs.max(dim=0)
            masks.write(image_id, mask=mask.to(torch.uint8).cpu().numpy(),
                      confidence=confidence.cpu().numpy().astype(np.float16))
