"""Per-stage throughput of the mcof steps, each against its floor: the bare library call it wraps.

A stage is the real step function a Snakemake rule calls (image decoding and HDF5 artifact I/O
included), run on one shard with config.yaml's settings; its floor is the same library
computation in the same process on the same images, already decoded or already tensors. The
ratio stage/floor (of seconds) is what the step adds around the library call. Everything runs on
the CPU with config.yaml's thread count, in a temporary directory.

    python bench/stages.py --size default|voc [--images N] [--epochs E] [--out PATH]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from PIL import Image
from skimage.segmentation import felzenszwalb, slic

from mcof import IGNORE
from mcof.artifacts import ArtifactReader
from mcof.data.transforms import PAD_COLOUR, resize, to_float
from mcof.data.voc import DatasetIndex
from mcof.models.classifier import Classifier, compute_cams
from mcof.models.deeplab import BACKBONE_OF, PixelNet
from mcof.models.regionnet import RegionNet
from mcof.steps.classifier import make_cams, train_classifier
from mcof.steps.dataset import dataset_classes, index_dataset, prepare_synthetic
from mcof.steps.pixelnet import Targets, predict_pixelnet, train_pixelnet
from mcof.steps.refine import make_refined
from mcof.steps.regionnet import collate_regions, infer_regionnet, region_loss, train_regionnet
from mcof.steps.saliency import make_saliency
from mcof.steps.seeds import make_cam_seeds
from mcof.steps.superpixels import make_superpixels
from mcof.training.checkpoint import init_backbone_from_classifier, load_model
from mcof.training.loop import steps_per_epoch

REPO = Path(__file__).resolve().parent.parent
VOC_SIZE = (500, 375)  # width, height
DEFAULT_IMAGES = {"default": 200, "voc": 32}  # default: one of the default run's two train shards
DEVICE = "cpu"
SHARD = {"shard": 0, "n_shards": 1}
INFER_BATCH = 8  # infer_regionnet's default; the rule does not set it


def load_config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())


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
    spec = dict(ds["synthetic"], n_train=n_images, n_val=1)
    root = work / "VOC2012"
    if size == "voc":
        spec["size"] = VOC_SIZE[0]
        prepare_synthetic(str(work / "square"), **spec)
        resize_voc_copy(work / "square", root, VOC_SIZE, quality=90)
    else:
        prepare_synthetic(str(root), **spec)
    index_path = str(work / "train.json")
    classes = dataset_classes("synthetic", spec["n_classes"], ds["classes"])
    index_dataset(str(root), "train", ds["train_list"], ds["mask_dir"], classes, index_path,
                  ds["check_images"])
    return index_path


def warm_process() -> None:
    """Pay one-off process start-up before any timing: the first optimizer imports
    torch._dynamo (about 1 s) and mcof imports some skimage modules lazily. In the workflow every
    job pays these once; bench/workflow.sh measures that, this script the per-image work."""
    import skimage.color  # noqa: F401
    import skimage.measure  # noqa: F401

    layer = torch.nn.Conv2d(3, 4, 3)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1, momentum=0.9)
    layer(torch.rand(2, 3, 16, 16)).sum().backward()
    optimizer.step()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def timed_loop(step, items: list, warmup: bool = True) -> float:
    """Seconds of step(item) over items; torch loops first run one untimed iteration so that
    one-off kernel setup is not counted."""
    if warmup:
        step(items[0])
    start = time.perf_counter()
    for item in items:
        step(item)
    return time.perf_counter() - start


def epoch_batches(n: int, batch_size: int) -> list[int]:
    """Batch sizes of one epoch of mcof.training.loop.fit on n samples."""
    per_epoch = steps_per_epoch(n, batch_size)
    used = min(n, per_epoch * batch_size)
    return [min(batch_size, used - k * batch_size) for k in range(per_epoch)]


def batched(items: list, sizes: list[int]) -> list[list]:
    """Consecutive slices of items of the given sizes."""
    starts = np.cumsum([0, *sizes])
    return [items[a:b] for a, b in zip(starts[:-1], starts[1:])]


def crop_stack(arrays: list[np.ndarray], crop: int, fill) -> torch.Tensor:
    """Top-left crop x crop of each [C, H, W] or [H, W] array, padded with fill, stacked."""
    first = arrays[0]
    shape = (len(arrays), *first.shape[:-2], crop, crop)
    out = np.empty(shape, dtype=first.dtype)
    out[...] = fill
    for k, a in enumerate(arrays):
        part = a[..., :crop, :crop]
        out[k, ..., :part.shape[-2], :part.shape[-1]] = part
    return torch.from_numpy(out)


def train_floor(model, net: dict, batches: list, epochs: int, loss_fn) -> float:
    """Bare SGD loop of fit(): forward, loss, backward, step on prebuilt batches, no loading."""
    optimizer = torch.optim.SGD(
        [{"params": params, "lr": net["lr"] * mult} for params, mult in model.param_groups()],
        lr=net["lr"], momentum=0.9, weight_decay=net["weight_decay"])
    model.train()

    def step(batch):
        loss = loss_fn(model, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return timed_loop(step, batches * epochs)


@torch.no_grad()
def forward_floor(model, inputs: list) -> float:
    """Bare inference: model(*x) for every prebuilt input, under no_grad."""
    model.eval()
    return timed_loop(lambda x: model(*x), inputs)


def region_batch(images, superpixels, seeds, scale: float) -> dict:
    """A RegionNet training batch as collate_regions builds it, every image at `scale` (the top
    of the scale range: fit pads each batch to its largest image)."""
    samples = []
    for image, sp, labels in zip(images, superpixels, seeds):
        h, w = max(8, round(image.shape[0] * scale)), max(8, round(image.shape[1] * scale))
        sp = resize(sp.astype(np.int32), h, w, True)  # as RegionSamples reads them
        samples.append((to_float(resize(image, h, w, False)), sp, labels.copy(),
                        np.bincount(sp.ravel(), minlength=len(labels))))
    return collate_regions(samples)


def read_all(path: str, stage: str, name: str, ids: list[str]) -> list[np.ndarray]:
    with ArtifactReader(path, stage) as reader:
        return [reader.read(i, name) for i in ids]


def row(stage: str, images: int, seconds: float, floor_seconds: float | None = None,
        note: str = "") -> dict:
    floor = floor_seconds is not None
    return {"stage": stage, "images": images, "seconds": round(seconds, 4),
            "images_per_s": round(images / seconds, 2),
            "floor_seconds": round(floor_seconds, 4) if floor else None,
            "floor_images_per_s": round(images / floor_seconds, 2) if floor else None,
            "ratio": round(seconds / floor_seconds, 2) if floor else None, "note": note}


@dataclass
class Run:
    """What the stages share: the indexed train split (one shard), its images decoded once for
    the floors, and the temporary directory holding the artifacts."""

    work: Path
    index_path: str
    cfg: dict
    epochs: int

    def __post_init__(self):
        self.index = DatasetIndex.load(self.index_path)
        self.ids = self.index.ids
        self.labelled = [i for i in self.ids if self.index.labels[i]]
        self.images = {i: self.index.load_image(i) for i in self.ids}

    def h5(self, stage: str) -> str:
        return str(self.work / f"{stage}.h5")

    def pt(self, net: str) -> str:
        return str(self.work / f"{net}.pt")

    def torch_args(self) -> dict:
        return {"device": DEVICE, "threads": self.cfg["threads"]}

    def train_args(self, net: dict) -> dict:
        """Keyword arguments every train_* rule passes alike."""
        return {**self.torch_args(), "seed": self.cfg["seed"], "workers": self.cfg["workers"],
                "amp": self.cfg["amp"], "weights": net["weights"], "epochs": self.epochs,
                "batch_size": net["batch_size"], "lr": net["lr"],
                "weight_decay": net["weight_decay"], "scale_range": tuple(net["scale"])}

    def train_batches(self, batch_size: int) -> list[list[str]]:
        """Ids of the batches fit() draws in one epoch (their sizes; which images is moot)."""
        return batched(self.labelled, epoch_batches(len(self.labelled), batch_size))

    def crops(self, ids: list[str], crop: int) -> torch.Tensor:
        """Training crops as tensors, padded with the mean colour like random_scale_crop's."""
        return crop_stack([to_float(self.images[i]) for i in ids], crop, PAD_COLOUR[:, None, None])

    def train_row(self, stage: str, batches: list, seconds: float, floor: float, what: str):
        samples = sum(len(b) for b in batches) * self.epochs
        return row(stage, samples, seconds, floor,
                   f"images: samples of {self.epochs} epoch(s); floor: SGD steps on {what}")


def bench_train_classifier(run: Run) -> dict:
    net = run.cfg["classifier"]
    seconds = timed(lambda: train_classifier(
        run.index_path, run.pt("classifier"), str(run.work / "ckpt/classifier"),
        backbone=net["backbone"], output_stride=net["output_stride"], crop=net["crop"],
        **run.train_args(net)))
    batches = run.train_batches(net["batch_size"])
    tensors = [(run.crops(b, net["crop"]),
                torch.from_numpy(np.stack([run.index.label_vector(i) for i in b])))
               for b in batches]
    torch.manual_seed(run.cfg["seed"])
    model = Classifier(run.index.n_classes - 1, net["backbone"], net["weights"],
                       net["output_stride"])
    floor = train_floor(model, net, tensors, run.epochs,
                        lambda m, b: F.multilabel_soft_margin_loss(m(b[0]), b[1]))
    return run.train_row("train_classifier", batches, seconds, floor, f"{net['crop']}px crops")


def bench_make_cams(run: Run) -> dict:
    scales, flip = run.cfg["cam"]["scales"], run.cfg["cam"]["flip"]
    seconds = timed(lambda: make_cams(run.index_path, run.pt("classifier"), run.h5("cams"),
                                      **SHARD, scales=list(scales), flip=flip, **run.torch_args()))
    model = load_model(run.pt("classifier"), "classifier", n_classes=run.index.n_classes - 1)
    items = [(torch.from_numpy(to_float(run.images[i])), [c - 1 for c in run.index.labels[i]])
             for i in run.ids]
    floor = timed_loop(lambda it: compute_cams(model.eval(), it[0], it[1], tuple(scales), flip),
                       items)
    return row("make_cams", len(run.ids), seconds, floor,
               f"floor: compute_cams on tensors, scales {scales}, flip {flip}")


def bench_superpixels(run: Run) -> dict:
    sp = run.cfg["superpixels"]
    seconds = timed(lambda: make_superpixels(run.index_path, run.h5("superpixels"), **SHARD, **sp))
    floor = timed_loop(lambda im: felzenszwalb(im, **sp), list(run.images.values()), warmup=False)
    return row("superpixels", len(run.ids), seconds, floor,
               "floor: skimage felzenszwalb on decoded images")


def bench_seeds_from_cam(run: Run) -> dict:
    keys = ("object_threshold", "local_max_min", "background_threshold")
    seconds = timed(lambda: make_cam_seeds(
        run.index_path, run.h5("cams"), run.h5("superpixels"), run.h5("seeds"), **SHARD,
        **{k: run.cfg["seeds"][k] for k in keys}))
    return row("seeds_from_cam", len(run.ids), seconds, note="no library floor")


def bench_train_regionnet(run: Run) -> dict:
    net = run.cfg["regionnet"]
    seconds = timed(lambda: train_regionnet(
        run.index_path, [run.h5("superpixels")], [run.h5("seeds")], run.pt("regionnet"),
        str(run.work / "ckpt/regionnet"), backbone=net["backbone"],
        classifier_path=run.pt("classifier"), pooled=net["pooled_first"],
        loss_weighting=net["loss_weighting"], hidden=net["hidden"], **run.train_args(net)))
    batches = run.train_batches(net["batch_size"])
    top = max(net["scale"])
    tensors = [region_batch([run.images[i] for i in b],
                            read_all(run.h5("superpixels"), "superpixels", "labels", b),
                            read_all(run.h5("seeds"), "seeds", "labels", b), top)
               for b in batches]
    torch.manual_seed(run.cfg["seed"])
    model = RegionNet(run.index.n_classes, net["backbone"], net["weights"], hidden=net["hidden"],
                      pooled=net["pooled_first"])
    init_backbone_from_classifier(model.features, net["backbone"], run.pt("classifier"))

    def loss(m, b):
        logits = m(b["images"], b["superpixels"], b["offsets"], b["n_regions"])
        return region_loss(logits, b["labels"], b["sizes"], net["loss_weighting"])
    floor = train_floor(model, net, tensors, run.epochs, loss)
    return run.train_row("train_regionnet", batches, seconds, floor,
                         f"whole images at scale {top}")


def bench_infer_regionnet(run: Run) -> dict:
    seconds = timed(lambda: infer_regionnet(
        run.index_path, run.pt("regionnet"), run.h5("superpixels"), run.h5("seeds"),
        run.h5("regions"), **SHARD, seed_override=run.cfg["regionnet"]["seed_override"],
        **run.torch_args()))
    model = load_model(run.pt("regionnet"), "regionnet", n_classes=run.index.n_classes)
    inputs = []
    for start in range(0, len(run.ids), INFER_BATCH):
        chunk = run.ids[start:start + INFER_BATCH]
        sps = read_all(run.h5("superpixels"), "superpixels", "labels", chunk)
        b = collate_regions([(to_float(run.images[i]), sp.astype(np.int64))
                             for i, sp in zip(chunk, sps)])
        inputs.append((b["images"], b["superpixels"], b["offsets"], b["n_regions"]))
    floor = forward_floor(model, inputs)
    return row("infer_regionnet", len(run.ids), seconds, floor,
               f"floor: forward on tensors, batches of {INFER_BATCH}")


def bench_saliency(run: Run) -> dict:
    sal = run.cfg["saliency"]
    seconds = timed(lambda: make_saliency(
        run.index_path, run.h5("saliency"), **SHARD, method=sal["method"],
        external_dir=sal["external_dir"], pixels_per_region=sal["pixels_per_region"],
        compactness=sal["compactness"]))

    def slic_only(im):
        n_segments = max(16, round(im.shape[0] * im.shape[1] / sal["pixels_per_region"]))
        slic(im, n_segments=n_segments, compactness=sal["compactness"], start_label=0,
             convert2lab=True)
    floor = timed_loop(slic_only, list(run.images.values()), warmup=False)
    return row("saliency", len(run.ids), seconds, floor,
               "floor: skimage slic only, just the superpixel part of RBD")


def bench_refine_regions(run: Run) -> dict:
    ref = run.cfg["refine"]
    seconds = timed(lambda: make_refined(
        run.index_path, run.h5("superpixels"), run.h5("regions"), run.h5("saliency"),
        run.h5("refined"), **SHARD, threshold=ref["threshold"], keep_object=ref["keep_object"],
        bins_per_channel=ref["bins_per_channel"]))
    return row("refine_regions", len(run.ids), seconds, note="no library floor")


def bench_train_pixelnet(run: Run) -> dict:
    """Iteration 1's PixelNet: trained on the refined regions, as the workflow's plan says."""
    net = run.cfg["pixelnet"]
    seconds = timed(lambda: train_pixelnet(
        run.index_path, run.pt("pixelnet"), str(run.work / "ckpt/pixelnet"), target="regions",
        label_paths=[run.h5("refined")], label_stage="refined",
        superpixel_paths=[run.h5("superpixels")], arch=net["arch"],
        classifier_path=run.pt("classifier"), crop=net["crop"],
        min_confidence=net["min_label_confidence"], **run.train_args(net)))
    targets = Targets("regions", run.index, [run.h5("refined")], "refined",
                      [run.h5("superpixels")], net["min_label_confidence"])
    batches = run.train_batches(net["batch_size"])
    tensors = [(run.crops(b, net["crop"]),
                crop_stack([targets(i).astype(np.int64) for i in b], net["crop"], IGNORE))
               for b in batches]
    torch.manual_seed(run.cfg["seed"])
    model = PixelNet(run.index.n_classes, net["arch"], net["weights"])
    init_backbone_from_classifier(model.features, BACKBONE_OF[net["arch"]], run.pt("classifier"))
    floor = train_floor(model, net, tensors, run.epochs,
                        lambda m, b: F.cross_entropy(m(b[0]), b[1], ignore_index=IGNORE))
    return run.train_row("train_pixelnet", batches, seconds, floor, f"{net['crop']}px crops")


def bench_predict_pixelnet(run: Run) -> dict:
    """train_masks of the train split (restricted to each image's labels)."""
    flip = run.cfg["pixelnet"]["flip_test"]
    seconds = timed(lambda: predict_pixelnet(
        run.index_path, run.pt("pixelnet"), run.h5("train_masks"), stage="train_masks", **SHARD,
        restrict=True, flip=flip, crf=None, **run.torch_args()))
    model = load_model(run.pt("pixelnet"), "pixelnet", n_classes=run.index.n_classes)
    inputs = []
    for i in run.ids:
        x = torch.from_numpy(to_float(run.images[i]))[None]
        inputs.append((torch.cat([x, x.flip(-1)]) if flip else x,))
    floor = forward_floor(model, inputs)
    return row("predict_pixelnet", len(run.ids), seconds, floor,
               "floor: forward on tensors" + (", image + mirror" if flip else ""))


STAGES = (bench_train_classifier, bench_make_cams, bench_superpixels, bench_seeds_from_cam,
          bench_train_regionnet, bench_infer_regionnet, bench_saliency, bench_refine_regions,
          bench_train_pixelnet, bench_predict_pixelnet)
"""In workflow order: each stage reads what the earlier ones wrote (iteration 1, one shard)."""


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


def markdown(rows: list[dict]) -> str:
    cols = ["stage", "images", "seconds", "images_per_s", "floor_seconds", "floor_images_per_s",
            "ratio", "note"]
    lines = ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    lines += ["| " + " | ".join("" if r[c] is None else str(r[c]) for c in cols) + " |"
              for r in rows]
    return "\n".join(lines)


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
    cfg = load_config()
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
            rows.append(stage(run))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=1) + "\n")
    print(header(args, cfg["threads"]))
    print()
    print(markdown(rows))


if __name__ == "__main__":
    main()
