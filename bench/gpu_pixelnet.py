"""PixelNet training at VOC scale on a GPU: the workflow's train_pixelnet step against a bare
torch loop of the same network on the same batches.

The step (DeepLab-LargeFOV by default, 321 crops, batch 20, bf16 autocast and channels-last on
CUDA, as `amp: true` makes it) decodes VOC-size JPEGs (500x375, drawn by the synthetic generator)
and their ground-truth masks with `workers` loader processes, trains, checkpoints each epoch and
saves the model: the fully supervised run's training. The floor is the same model, optimizer,
autocast and memory format on the same batches, built ahead and already on the GPU, with no
per-step synchronisation. Figures: images/s of each, their ratio, the GPU's peak memory.

    python bench/gpu_pixelnet.py [--images 200] [--epochs 4] [--arch deeplab_largefov]
        [--batch 20] [--crop 321] [--workers 8] [--device cuda] [--out PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/, for stages and timing
from stages import build_dataset  # noqa: E402
from timing import fit_batches  # noqa: E402

from mcof import IGNORE  # noqa: E402
from mcof.data.voc import DatasetIndex  # noqa: E402
from mcof.models.deeplab import PixelNet  # noqa: E402
from mcof.plan import GROUND_TRUTH  # noqa: E402
from mcof.steps.pixelnet import SegmentationSamples, Targets, train_pixelnet  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def floor_seconds(arch: str, n_classes: int, batches: list, net: dict, device: torch.device,
                  amp: bool) -> float:
    """Bare loop: forward under autocast, cross-entropy, backward, SGD step; batches already on
    the device; one untimed warm-up step."""
    torch.manual_seed(0)
    model = PixelNet(n_classes, arch, "none").to(device)
    cuda = device.type == "cuda"
    if cuda:
        model.to(memory_format=torch.channels_last)
        batches = [(x.to(device).contiguous(memory_format=torch.channels_last), y.to(device))
                   for x, y in batches]
    optimizer = torch.optim.SGD(model.parameters(), lr=net["lr"], momentum=0.9,
                                weight_decay=net["weight_decay"])
    model.train()

    def step(batch):
        images, masks = batch
        autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if cuda and amp
                    else contextlib.nullcontext())
        with autocast:
            logits = model(images)
        loss = F.cross_entropy(logits.float(), masks, ignore_index=IGNORE)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    step(batches[0])
    synchronize(device)
    start = time.perf_counter()
    for batch in batches:
        step(batch)
    synchronize(device)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--arch", default="deeplab_largefov")
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--crop", type=int, default=321)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", default=str(REPO / "bench" / "results" / "gpu_pixelnet.json"))
    args = parser.parse_args()
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    net = dict(cfg["pixelnet"], arch=args.arch, batch_size=args.batch, crop=args.crop,
               epochs=args.epochs)
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory(prefix="mcof-gpu-") as tmp:
        work = Path(tmp)
        began = time.perf_counter()
        index_path = build_dataset(work, "voc", args.images, cfg)
        made = time.perf_counter() - began
        index = DatasetIndex.load(index_path)
        mask_dir = str(work / "VOC2012" / cfg["dataset"]["mask_dir"])
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        began = time.perf_counter()
        train_pixelnet(index_path, [], [], str(work / "pixelnet.pt"), classifier=None,
                       previous=None, checkpoint_dir=str(work / "checkpoints"),
                       target=GROUND_TRUTH, label_stage=GROUND_TRUTH, arch=args.arch,
                       weights="none", epochs=args.epochs, batch_size=args.batch, lr=net["lr"],
                       weight_decay=net["weight_decay"], crop=args.crop, scale=net["scale"],
                       min_label_confidence=net["min_label_confidence"], seed=cfg["seed"],
                       mask_dir=mask_dir, device=args.device, threads=cfg["threads"],
                       workers=args.workers, amp=cfg["amp"])
        synchronize(device)
        step = time.perf_counter() - began
        peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
        targets = Targets(GROUND_TRUTH, index, [], GROUND_TRUTH, [], net["min_label_confidence"],
                          mask_dir)
        samples = SegmentationSamples(index, targets, args.crop, tuple(net["scale"]))
        batches = fit_batches(samples, args.batch, cfg["seed"], args.epochs,
                              torch.utils.data.default_collate)
        floor = floor_seconds(args.arch, index.n_classes, batches, net, device, cfg["amp"])
    trained = sum(len(b[0]) for b in batches)
    row = {
        "device": (torch.cuda.get_device_name(device) if device.type == "cuda"
                   else f"cpu, {os.cpu_count()} CPUs"),
        "torch": torch.__version__, "arch": args.arch, "crop": args.crop, "batch": args.batch,
        "images": args.images, "epochs": args.epochs, "workers": args.workers,
        "amp": cfg["amp"], "samples_trained": trained,
        "step_seconds": round(step, 2), "step_images_per_s": round(trained / step, 1),
        "floor_seconds": round(floor, 2), "floor_images_per_s": round(trained / floor, 1),
        "ratio": round(step / floor, 2), "peak_gpu_mib": None if peak is None else round(peak),
        "dataset_seconds": round(made, 1),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(row, indent=1) + "\n")
    print(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
