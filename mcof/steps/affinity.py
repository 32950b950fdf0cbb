"""Rules train_affinity, random_walk_cams and random_walk_masks: pixel affinities learnt from
confident CAM labels, and the random walk that spreads CAMs (iteration 1) or PixelNet's masks
(later iterations) to object extents (see mcof.models.affinity)."""

from __future__ import annotations

import contextlib
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mcof import IGNORE
from mcof.artifacts import ArtifactReader, ArtifactWriter, LazyReaders
from mcof.data.transforms import random_scale_crop, to_float
from mcof.data.voc import DatasetIndex
from mcof.layout import AFFINITY, CAMS, RW_CAMS, RW_MASKS, TRAIN_MASKS
from mcof.models.affinity import (AffinityNet, affinities, affinity_loss, pair_indices,
                                  random_walk, transition_matrix)
from mcof.shards import shard_ids
from mcof.steps import optional_path
from mcof.training.checkpoint import init_backbone, load_model
from mcof.training.device import choose_device, set_threads
from mcof.training.loop import Schedule, train_and_save

EMBEDDING_STRIDE = 4


def confident_cam_labels(cams: np.ndarray, classes: np.ndarray, high: float,
                         low: float) -> np.ndarray:
    """uint8 [H, W] labels from CAMs float [n, H, W]: the strongest class where its CAM is at
    least high, background where every CAM is below low, 255 (not trained on) between."""
    if len(classes) == 0:
        return np.zeros(cams.shape[1:], dtype=np.uint8)
    best = cams.max(axis=0)
    labels = np.full(cams.shape[1:], IGNORE, dtype=np.uint8)
    labels[best >= high] = np.asarray(classes, dtype=np.uint8)[cams.argmax(axis=0)][best >= high]
    labels[best < low] = 0
    return labels


class AffinitySamples:
    """Augmented crops with their confident CAM labels, at the embedding's stride."""

    def __init__(self, index: DatasetIndex, cam_paths: list[str], crop: int, scale_range,
                 high: float, low: float):
        self.index, self.crop, self.scale_range = index, crop, tuple(scale_range)
        self.high, self.low = high, low
        self.readers = LazyReaders(cams=(cam_paths, CAMS))
        self.ids = [i for i in index.ids if index.labels[i]]

    def __len__(self) -> int:
        return len(self.ids)

    def sample(self, i: int, rng: np.random.Generator):
        image_id = self.ids[i]
        cams = self.readers.cams
        labels = confident_cam_labels(cams.read(image_id, "cams").astype(np.float32),
                                      cams.read(image_id, "classes"), self.high, self.low)
        image, labels = random_scale_crop(self.index.load_image(image_id), labels, rng,
                                          self.scale_range, self.crop, flip=True)
        # the label of each embedding cell: the pixel at its centre
        s = EMBEDDING_STRIDE
        coarse = labels[s // 2::s, s // 2::s]
        return torch.from_numpy(image), torch.from_numpy(coarse.astype(np.int64))


def affinity_step(radius: int):
    cache = {}

    def step(model, batch, device):
        images, labels = (t.to(device, non_blocking=True) for t in batch)
        embedding = model(images)
        h, w = embedding.shape[2:]
        if (h, w) not in cache:
            cache[(h, w)] = tuple(t.to(device) for t in pair_indices(h, w, radius))
        first, second = cache[(h, w)]
        labels = labels[:, :h, :w]
        predicted = affinities(embedding.float(), first, second)
        loss, _ = affinity_loss(predicted, labels, first, second)
        # accuracy over the labelled pairs: affinity above 0.5 exactly where both cells agree
        flat = labels.flatten(1)
        a, b = flat[:, first], flat[:, second]
        labelled = (a != IGNORE) & (b != IGNORE)
        correct = ((predicted.detach() > 0.5) == (a == b))[labelled].sum()
        return loss, {"correct": correct, "total": int(labelled.sum())}

    return step


def train_affinity(index: str, cams: list[str], model: str, *, init: str | list[str] | None,
                   checkpoint_dir: str, backbone: str, weights: str, dim: int, radius: int,
                   high: float, low: float, epochs: int, batch_size: int, lr: float,
                   weight_decay: float, crop: int, scale: list[float], seed: int,
                   device: str = "auto", threads: int = 1, workers: int = 0,
                   amp: bool = True, history: str | None = None,
                   weights_file: str | list[str] | None = None) -> list[dict]:
    """Train the affinity network on the confident labels of the CAMs and save it.

    history: its per-epoch CSV; weights_file: the weights file when `weights` is one.
    """
    set_threads(threads)
    dataset = DatasetIndex.load(index)
    init = optional_path(init)
    torch.manual_seed(seed)
    net = AffinityNet(backbone, weights, dim, output_stride=None)
    if init:
        init_backbone(net.features, backbone, init)
    schedule = Schedule(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                        seed=seed)
    return train_and_save(
        net, AffinitySamples(dataset, cams, crop, scale, high, low), affinity_step(radius),
        model_path=model, checkpoint_dir=checkpoint_dir, schedule=schedule,
        inputs=[index, *cams, *filter(None, [init, optional_path(weights_file)])],
        settings={"weights": weights, "radius": radius, "high": high, "low": low, "crop": crop,
                  "scale": list(scale)},
        device=device, workers=workers, amp=amp, desc="affinity", history=history)


MAX_CELLS = 4096
"""The walk's transition matrix is dense (cells^2); a larger embedding (a VOC photograph at
stride 4 has about 12,000 cells) is average-pooled to at most this many cells first."""


class RandomWalk:
    """The walk of one image: its transition matrix from the trained network, applied to score
    maps at image size (downsampled to the embedding, walked, upsampled back)."""

    def __init__(self, net: AffinityNet, radius: int, beta: float, steps: int, device):
        self.net, self.radius, self.beta, self.steps, self.device = net, radius, beta, steps, device

    @torch.no_grad()
    def __call__(self, image: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """image uint8 [H, W, 3], scores float [C, H, W] -> walked scores float32 [C, H, W]."""
        x = torch.from_numpy(to_float(image))[None].to(self.device)
        embedding = self.net(x).float()
        factor = math.ceil(math.sqrt(embedding.shape[2] * embedding.shape[3] / MAX_CELLS))
        if factor > 1:
            embedding = F.avg_pool2d(embedding, factor, ceil_mode=True)
        h, w = embedding.shape[2:]
        first, second = (t.to(self.device) for t in pair_indices(h, w, self.radius))
        transition = transition_matrix(affinities(embedding, first, second)[0], first, second,
                                       h * w, self.beta)
        s = torch.from_numpy(np.asarray(scores, dtype=np.float32)).to(self.device)
        coarse = F.adaptive_avg_pool2d(s[None], (h, w))[0].flatten(1)
        walked = random_walk(coarse, transition, self.steps).view(1, -1, h, w)
        return F.interpolate(walked, size=image.shape[:2], mode="bilinear",
                             align_corners=False)[0].cpu().numpy()


def _walker(model: str, radius: int, beta: float, steps: int, device: str) -> RandomWalk:
    dev = choose_device(device)
    return RandomWalk(load_model(model, AFFINITY).to(dev).eval(), radius, beta, steps, dev)


def random_walk_cams(index: str, model: str, cams: str, out: str, *, shard: int, n_shards: int,
                     radius: int, beta: float, steps: int, background_power: float,
                     device: str = "auto", threads: int = 1) -> None:
    """CAMs spread by the random walk -> cams [n, H, W] in [0, 1], classes [n] (as make_cams).

    Background walks too, with score (1 - max CAM)^background_power, so that a class's score
    spreads over its object and not over the background next to it; each class's walked map
    is then scaled to peak 1 and where background wins, set to 0.
    """
    set_threads(threads)
    dataset = DatasetIndex.load(index)
    walk = _walker(model, radius, beta, steps, device)
    params = {"model": Path(model).name, "radius": radius, "beta": beta, "steps": steps,
              "background_power": background_power}
    with ArtifactReader(cams, CAMS) as maps, ArtifactWriter(out, RW_CAMS, params) as walked_out:
        for image_id in shard_ids(dataset.ids, shard, n_shards):
            cam = maps.read(image_id, "cams").astype(np.float32)
            classes = maps.read(image_id, "classes")
            if len(classes):
                background = (1.0 - cam.max(axis=0, keepdims=True)) ** background_power
                walked = walk(dataset.load_image(image_id), np.concatenate([background, cam]))
                objects = walked[1:] / np.maximum(walked[1:].max(axis=(1, 2), keepdims=True), 1e-5)
                objects[:, walked.argmax(axis=0) == 0] = 0.0
                cam = objects
            walked_out.write(image_id, cams=cam.astype(np.float16), classes=classes)


def random_walk_masks(index: str, model: str, masks: str, out: str, *, shard: int,
                      n_shards: int, radius: int, beta: float, steps: int,
                      device: str = "auto", threads: int = 1) -> None:
    """PixelNet's training-set masks spread by the random walk -> mask, confidence.

    Each of background and the image's labels walks with its pixels' confidence as score; the
    walked scores, normalised over the classes, give the new mask and its confidence.
    """
    set_threads(threads)
    dataset = DatasetIndex.load(index)
    walk = _walker(model, radius, beta, steps, device)
    params = {"model": Path(model).name, "radius": radius, "beta": beta, "steps": steps}
    with contextlib.ExitStack() as stack:
        pixel_masks = stack.enter_context(ArtifactReader(masks, TRAIN_MASKS))
        walked_out = stack.enter_context(ArtifactWriter(out, RW_MASKS, params))
        for image_id in shard_ids(dataset.ids, shard, n_shards):
            mask = pixel_masks.read(image_id, "mask")
            confidence = pixel_masks.read(image_id, "confidence").astype(np.float32)
            allowed = [0, *dataset.labels[image_id]]
            scores = np.stack([np.where(mask == c, confidence, 0.0) for c in allowed])
            walked = walk(dataset.load_image(image_id), scores)
            walked /= np.maximum(walked.sum(axis=0, keepdims=True), 1e-6)
            walked_out.write(image_id, mask=np.asarray(allowed, np.uint8)[walked.argmax(axis=0)],
                             confidence=walked.max(axis=0).astype(np.float16))
