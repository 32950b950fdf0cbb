"""Per-stage throughput of the mcof steps, each against its floor: the bare library call it wraps.

A stage is the real step function a Snakemake rule calls (image decoding and HDF5 artifact I/O
included), run on one shard with config.yaml's settings; its floor is the same library
computation in the same process on the same images, already decoded or already tensors. The
ratio stage/floor (of seconds) is what the step adds around the library call. Everything runs on
the CPU with config.yaml's thread count, in a temporary directory.

    python bench/stages.py --size default|voc [--images N] [--epochs E] [--crop C] [--out PATH]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from PIL import Image
from skimage.segmentation import felzenszwalb
from torch.utils.data import default_collate

from mcof import IGNORE
from mcof.artifacts import ArtifactReader
from mcof.config import per_iteration
from mcof.crf import CRFSettings, dense_crf, label_unary
from mcof.data.transforms import to_float
from mcof.data.voc import DatasetIndex
from mcof.layout import (AFFINITY, CAMS, CLASSIFIER, CRF_LABELS, PIXELNET, REFINED, REGIONNET,
                         REGIONS, RW_CAMS, SALIENCY, SEEDS, SUPERPIXELS, TRAIN_MASKS)
from mcof.models.affinity import affinities, pair_indices, random_walk, transition_matrix
from mcof.models.classifier import compute_cams
from mcof.models.deeplab import predict_logits
from mcof.plan import SUPERPIXEL_LABELS
from mcof.saliency import slic_regions
from mcof.steps.affinity import (MAX_CELLS, AffinitySamples, affinity_step, random_walk_cams,
                                 train_affinity)
from mcof.steps.classifier import ClassificationSamples, make_cams, train_classifier
from mcof.steps.crf import make_crf_labels
from mcof.steps.dataset import dataset_classes, index_dataset, prepare_embedded
from mcof.steps.pixelnet import SegmentationSamples, Targets, predict_pixelnet, train_pixelnet
from mcof.steps.refine import make_refined
from mcof.steps.regionnet import (RegionSample, RegionSamples, collate_regions, infer_regionnet,
                                  region_loss, train_regionnet)
from mcof.steps.saliency import make_saliency
from mcof.steps.seeds import make_cam_seeds
from mcof.steps.superpixels import make_superpixels
from mcof.superpixels import paint
from mcof.training.checkpoint import load_model

from timing import (Timing, each, epoch_samples, fit_batches, forward_floor, markdown, measure,
                    sgd_floor, warm_process)  # bench/timing.py, beside this script

REPO = Path(__file__).resolve().parent.parent
VOC_SIZE = (500, 375)  # width, height
DEFAULT_IMAGES = {"default": 200, "voc": 32}  # default: one of the default run's two train shards
DEVICE = "cpu"
SHARD = {"shard": 0, "n_shards": 1}
INFER_BATCH = 8  # infer_regionnet's default; the rule does not set it


# The run: dataset, artifacts and settings every stage reads.


def resize_voc_copy(src: Path, dst: Path, size: tuple[int, int], quality: int) -> None:
    """VOC-layout copy of src with every image and mask resized to size (width, height)."""
    for sub in ("JPEGImages", "SegmentationClass"):
        (dst / sub).mkdir(parents=True)
    shutil.copytree(src / "ImageSets", dst / "ImageSets")
    for path in (src / "JPEGImages").glob("*.jpg"):
        with Image.open(path) as img:
            img.convert("RGB").resize(size, Image.BILINEAR).save(dst / "JPEGImages" / path.name,
                                                                 quality=quality)
    for path in (src / "SegmentationClass").glob("*.png"):
        with Image.open(path) as img:  # palette PNG: nearest keeps class ids and palette
            img.resize(size, Image.NEAREST).save(dst / "SegmentationClass" / path.name)


def build_dataset(work: Path, size: str, n_images: int, cfg: dict) -> str:
    """Write the synthetic dataset (VOC-sized copy for --size voc), index its train split.

    For voc the dataset is drawn at 500 px, not upsampled from 96 px, so that superpixels and
    saliency see VOC-scale detail.
    """
    ds = cfg["dataset"]
    spec = dict(ds["synthetic"], n_train=n_images, n_val=1, n_test=0)
    root = work / "VOC2012"
    if size == "voc":
        spec["size"] = VOC_SIZE[0]
        prepare_embedded(str(work / "square"), source="synthetic", spec=spec)
        resize_voc_copy(work / "square", root, VOC_SIZE, quality=90)
    else:
        prepare_embedded(str(root), source="synthetic", spec=spec)
    index_path = str(work / "train.json")
    classes = dataset_classes("synthetic", spec["n_classes"], ds["classes"])
    index_dataset(index_path, root=str(root), split="train", list_path=ds["train_list"],
                  image_dir=ds["image_dir"], mask_dir=ds["mask_dir"], labels_from="masks",
                  label_file=None, classes=classes, check_images=ds["check_images"])
    return index_path


@dataclass
class Run:
    """What the stages share: the indexed train split (one shard), its images decoded once for
    the floors, config.yaml's settings and the temporary directory holding the artifacts."""

    work: Path
    index_path: str
    cfg: dict
    epochs: int

    def __post_init__(self):
        self.index = DatasetIndex.load(self.index_path)
        self.ids = self.index.ids
        self.images = [self.index.load_image(i) for i in self.ids]

    @cached_property
    def tensors(self) -> list[torch.Tensor]:
        """The images as float [3, H, W] tensors, as the torch steps make them."""
        return [torch.from_numpy(to_float(image)) for image in self.images]

    def h5(self, stage: str) -> str:
        return str(self.work / f"{stage}.h5")

    def pt(self, network: str) -> str:
        return str(self.work / f"{network}.pt")

    def read(self, stage: str, name: str) -> list[np.ndarray]:
        """Array `name` of every image from the stage's artifact."""
        with ArtifactReader(self.h5(stage), stage) as reader:
            return [reader.read(i, name) for i in self.ids]

    def torch_args(self) -> dict:
        return {"device": DEVICE, "threads": self.cfg["threads"]}

    def train_args(self, network: str, *keys: str) -> dict:
        """Keyword arguments of a train_* step: those every training rule passes alike, then
        the config section's own `keys`."""
        net = self.cfg[network]
        return {**self.torch_args(), "checkpoint_dir": str(self.work / "checkpoints" / network),
                "seed": self.cfg["seed"], "workers": self.cfg["workers"], "amp": self.cfg["amp"],
                "epochs": self.epochs,
                **{k: net[k] for k in ("weights", "batch_size", "lr", "weight_decay", "scale",
                                       *keys)}}

    def training(self, network: str, step: Callable[[], object], samples, loss: Callable,
                 what: str, collate: Callable = default_collate) -> Timing:
        """Stage train_<network> against SGD steps of the network it trained on the batches fit()
        drew, built ahead. `network` names the model kind and its config section alike."""
        net = self.cfg[network]
        trained = epoch_samples(len(samples), net["batch_size"]) * self.epochs

        def floor():
            batches = fit_batches(samples, net["batch_size"], self.cfg["seed"], self.epochs,
                                  collate)
            return sgd_floor(load_model(self.pt(network), network), net, batches, loss)

        return measure(f"train_{network}", trained, step, floor,
                       f"images: samples of {self.epochs} epoch(s); floor: SGD steps on {what}")


# The stages, one function each, in the workflow's order (iteration 1).


def bench_train_classifier(run: Run) -> Timing:
    net = run.cfg["classifier"]
    return run.training(
        CLASSIFIER,
        lambda: train_classifier(run.index_path, run.pt(CLASSIFIER), **run.train_args(
            CLASSIFIER, "backbone", "output_stride", "crop")),
        ClassificationSamples(run.index, net["crop"], tuple(net["scale"])),
        lambda model, batch: F.multilabel_soft_margin_loss(model(batch[0]), batch[1]),
        f"{net['crop']}px crops")


def bench_make_cams(run: Run) -> Timing:
    scales, flip = run.cfg["cam"]["scales"], run.cfg["cam"]["flip"]

    def floor():
        model = load_model(run.pt(CLASSIFIER), CLASSIFIER).eval()
        labels = [[c - 1 for c in run.index.labels[i]] for i in run.ids]
        return each(lambda item: compute_cams(model, *item, tuple(scales), flip),
                    list(zip(run.tensors, labels)))

    return measure(
        "make_cams", len(run.ids),
        lambda: make_cams(run.index_path, run.pt(CLASSIFIER), run.h5(CAMS), **SHARD,
                          scales=scales, flip=flip, **run.torch_args()),
        floor, f"floor: compute_cams on tensors, scales {scales}, flip {flip}")


def bench_train_affinity(run: Run) -> Timing:
    """Its floor's loss is the step's own: affinity_loss alone, nothing counted besides."""
    net = run.cfg["affinity"]
    loss = affinity_step(net["radius"])
    init = run.pt(CLASSIFIER) if net["init_from_classifier"] else None
    return run.training(
        AFFINITY,
        lambda: train_affinity(run.index_path, [run.h5(CAMS)], run.pt(AFFINITY), init=init,
                               **run.train_args(AFFINITY, "backbone", "dim", "radius", "high",
                                                "low", "crop")),
        AffinitySamples(run.index, [run.h5(CAMS)], net["crop"], net["scale"], net["high"],
                        net["low"]),
        lambda model, batch: loss(model, batch, torch.device(DEVICE))[0],
        f"{net['crop']}px crops")


def bench_random_walk_cams(run: Run) -> Timing:
    """Its floor starts from each image's embedding, computed beforehand: the stage adds the
    network's forward pass besides reading and writing."""
    net = run.cfg["affinity"]

    @torch.no_grad()
    def floor():
        model = load_model(run.pt(AFFINITY), AFFINITY).eval()
        walks = []
        for x, cams in zip(run.tensors, run.read(CAMS, "cams")):
            if len(cams):
                embedding = model(x[None]).float()
                factor = math.ceil(math.sqrt(embedding[0, 0].numel() / MAX_CELLS))
                if factor > 1:  # as the step does: a dense matrix of at most MAX_CELLS^2
                    embedding = F.avg_pool2d(embedding, factor, ceil_mode=True)
                h, w = embedding.shape[2:]
                scores = np.concatenate([1 - cams.max(axis=0, keepdims=True), cams])
                coarse = F.adaptive_avg_pool2d(torch.from_numpy(scores.astype(np.float32)),
                                               (h, w)).flatten(1)
                walks.append((embedding, coarse, *pair_indices(h, w, net["radius"])))

        def walk(item):
            embedding, coarse, first, second = item
            n_cells = embedding.shape[2] * embedding.shape[3]
            transition = transition_matrix(affinities(embedding, first, second)[0], first,
                                           second, n_cells, net["beta"])
            return random_walk(coarse, transition, net["steps"])

        return each(walk, walks)

    return measure(
        "random_walk_cams", len(run.ids),
        lambda: random_walk_cams(run.index_path, run.pt(AFFINITY), run.h5(CAMS), run.h5(RW_CAMS),
                                 **SHARD, **{k: net[k] for k in ("radius", "beta", "steps",
                                                                 "background_power")},
                                 **run.torch_args()),
        floor, "floor: transition matrix and walk of background + CAMs on ready embeddings")


def bench_superpixels(run: Run) -> Timing:
    sp = run.cfg["superpixels"]
    return measure(
        "superpixels", len(run.ids),
        lambda: make_superpixels(run.index_path, run.h5(SUPERPIXELS), **SHARD, **sp),
        lambda: each(lambda image: felzenszwalb(image, **sp), run.images, warmup=False),
        "floor: skimage felzenszwalb on decoded images")


def bench_seeds_from_cam(run: Run) -> Timing:
    keys = ("object_threshold", "local_max_min", "background_threshold", "keep_every_class")
    return measure(
        "seeds_from_cam", len(run.ids),
        lambda: make_cam_seeds(run.index_path, run.h5(CAMS), run.h5(SUPERPIXELS), run.h5(SEEDS),
                               **SHARD, **{k: run.cfg["seeds"][k] for k in keys}),
        note="no library floor")


def bench_train_regionnet(run: Run) -> Timing:
    net = run.cfg["regionnet"]
    init = None if net["init_from"] == "none" else run.pt(CLASSIFIER)  # iteration 1

    def loss(model, batch):
        logits = model(batch["images"], batch["superpixels"], batch["offsets"], batch["n_regions"])
        return region_loss(logits, batch["labels"], batch["sizes"], net["loss_weighting"])

    return run.training(
        REGIONNET,
        lambda: train_regionnet(run.index_path, [run.h5(SUPERPIXELS)], [run.h5(SEEDS)],
                                run.pt(REGIONNET), init=init,
                                pooled=per_iteration(net["pooled"], 1),
                                **run.train_args(REGIONNET, "backbone", "loss_weighting",
                                                 "hidden")),
        RegionSamples(run.index, [run.h5(SUPERPIXELS)], [run.h5(SEEDS)], tuple(net["scale"])),
        loss, "whole images", collate=collate_regions)


def bench_infer_regionnet(run: Run) -> Timing:
    net = run.cfg["regionnet"]

    def floor():
        model = load_model(run.pt(REGIONNET), REGIONNET).eval()
        samples = [RegionSample(x.numpy(), sp.astype(np.int64))
                   for x, sp in zip(run.tensors, run.read(SUPERPIXELS, "labels"))]
        batches = [collate_regions(samples[start:start + INFER_BATCH])
                   for start in range(0, len(samples), INFER_BATCH)]
        return forward_floor(lambda b: model(b["images"], b["superpixels"], b["offsets"],
                                             b["n_regions"]), batches)

    return measure(
        "infer_regionnet", len(run.ids),
        lambda: infer_regionnet(run.index_path, run.pt(REGIONNET), run.h5(SUPERPIXELS),
                                run.h5(SEEDS), run.h5(REGIONS), **SHARD,
                                seed_override=per_iteration(net["seed_override"], 1),
                                keep_every_class=net["keep_every_class"], **run.torch_args()),
        floor, f"floor: forward on tensors, batches of {INFER_BATCH}")


def bench_saliency(run: Run) -> Timing:
    sal = run.cfg["saliency"]
    return measure(
        "saliency", len(run.ids),
        lambda: make_saliency(run.index_path, run.h5(SALIENCY), **SHARD, **sal),
        lambda: each(lambda image: slic_regions(image, sal["pixels_per_region"],
                                                sal["compactness"]), run.images, warmup=False),
        "floor: skimage slic only, just the superpixel part of RBD")


def bench_refine_regions(run: Run) -> Timing:
    return measure(
        "refine_regions", len(run.ids),
        lambda: make_refined(run.index_path, run.h5(SUPERPIXELS), run.h5(REGIONS),
                             run.h5(SALIENCY), run.h5(REFINED), **SHARD, **run.cfg["refine"]),
        note="no library floor")


def bench_crf_labels(run: Run) -> Timing:
    """The refined regions through the dense CRF, as iteration 1 does with crf.loop on."""
    crf = {f.name: run.cfg["crf"][f.name] for f in dataclasses.fields(CRFSettings)}
    confidence = run.cfg["crf"]["label_confidence"]

    def floor():
        painted = map(paint, [sp.astype(np.int64) for sp in run.read(SUPERPIXELS, "labels")],
                      run.read(REFINED, "labels"))
        unaries = [label_unary(p, [0, *run.index.labels[i]], run.index.n_classes, confidence)
                   for p, i in zip(painted, run.ids)]
        settings = CRFSettings(**crf)
        return each(lambda item: dense_crf(*item, settings), list(zip(run.images, unaries)))

    return measure(
        "crf_labels", len(run.ids),
        lambda: make_crf_labels(run.index_path, run.h5(REFINED), run.h5(SUPERPIXELS),
                                run.h5(CRF_LABELS), label_stage=REFINED, **SHARD, crf=crf,
                                label_confidence=confidence, threads=run.cfg["threads"]),
        floor, f"floor: mcof.crf.dense_crf ({crf['backend']}) on ready unaries")


def bench_train_pixelnet(run: Run) -> Timing:
    """Iteration 1's PixelNet: trained on the refined regions, as the workflow's plan says."""
    net = run.cfg["pixelnet"]
    labels, superpixels = [run.h5(REFINED)], [run.h5(SUPERPIXELS)]
    targets = Targets(SUPERPIXEL_LABELS, run.index, labels, REFINED, superpixels,
                      net["min_label_confidence"])
    classifier = run.pt(CLASSIFIER) if net["init_from_classifier"] else None
    return run.training(
        PIXELNET,
        lambda: train_pixelnet(run.index_path, labels, superpixels, run.pt(PIXELNET),
                               classifier=classifier, previous=None, target=SUPERPIXEL_LABELS,
                               label_stage=REFINED, **run.train_args(
                                   PIXELNET, "arch", "crop", "min_label_confidence")),
        SegmentationSamples(run.index, targets, net["crop"], tuple(net["scale"])),
        lambda model, batch: F.cross_entropy(model(batch[0]), batch[1], ignore_index=IGNORE),
        f"{net['crop']}px crops")


def bench_predict_pixelnet(run: Run) -> Timing:
    """train_masks of the train split (restricted to each image's labels)."""
    flip = run.cfg["pixelnet"]["flip_test"]

    def floor():
        model = load_model(run.pt(PIXELNET), PIXELNET).eval()
        return forward_floor(lambda x: predict_logits(model, x, flip), run.tensors)

    return measure(
        "predict_pixelnet", len(run.ids),
        lambda: predict_pixelnet(run.index_path, run.pt(PIXELNET), run.h5(TRAIN_MASKS),
                                 stage=TRAIN_MASKS, **SHARD, restrict=True, flip=flip, crf=None,
                                 **run.torch_args()),
        floor, "floor: forward on tensors" + (", image + mirror" if flip else ""))


STAGES = (bench_train_classifier, bench_make_cams, bench_train_affinity, bench_random_walk_cams,
          bench_superpixels, bench_seeds_from_cam, bench_train_regionnet, bench_infer_regionnet,
          bench_saliency, bench_refine_regions, bench_crf_labels, bench_train_pixelnet,
          bench_predict_pixelnet)
"""In workflow order: each stage reads what the earlier ones wrote (iteration 1, one shard)."""


# The command.


def header(args, threads: int) -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                                capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return (f"machine: {platform.platform()}, {os.cpu_count()} CPUs, torch {torch.__version__}; "
            f"date: {datetime.datetime.now().isoformat(timespec='seconds')}; commit: {commit}; "
            f"size: {args.size}, images: {args.images}, epochs: {args.epochs}, "
            f"threads: {threads}, device: {DEVICE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=("default", "voc"), default="default")
    parser.add_argument("--images", type=int, default=None,
                        help="images in the train split (default: 200 for default, 32 for voc)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs of each training stage")
    parser.add_argument("--crop", type=int, default=None,
                        help="training crop of classifier and PixelNet (default: config.yaml's)")
    parser.add_argument("--out", default=None,
                        help="JSON rows (default: bench/results/stages-<size>.json)")
    args = parser.parse_args()
    args.images = args.images or DEFAULT_IMAGES[args.size]
    out = Path(args.out or REPO / "bench" / "results" / f"stages-{args.size}.json")
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    if args.crop:
        cfg["classifier"]["crop"] = cfg["pixelnet"]["crop"] = args.crop
    torch.set_num_threads(cfg["threads"])
    warm_process()
    rows = []
    with tempfile.TemporaryDirectory(prefix="mcof-stages-") as tmp:
        run = Run(Path(tmp), build_dataset(Path(tmp), args.size, args.images, cfg), cfg,
                  args.epochs)
        for stage in STAGES:
            print(f"[stages] {stage.__name__}", file=sys.stderr, flush=True)
            rows.append(stage(run).row())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1) + "\n")
    print(header(args, cfg["threads"]))
    print()
    print(markdown(rows))


if __name__ == "__main__":
    main()
