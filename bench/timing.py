"""Timing a stage against its floor: the row of the table, the clocks, and the floors that
several stages share (bench/stages.py holds the stages)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import torch

from mcof.training.loop import EpochDataset, epoch_order, steps_per_epoch


@dataclass
class Timing:
    """One row of the table: a stage's seconds on `images` images (training stages: the samples
    trained on) against its floor's, None where the stage has no library floor."""

    stage: str
    images: int
    seconds: float
    floor_seconds: float | None = None
    note: str = ""

    def row(self) -> dict:
        floor = self.floor_seconds

        def per(seconds):
            return None if seconds is None else round(self.images / seconds, 2)

        return {"stage": self.stage, "images": self.images, "seconds": round(self.seconds, 4),
                "images_per_s": per(self.seconds),
                "floor_seconds": None if floor is None else round(floor, 4),
                "floor_images_per_s": per(floor),
                "ratio": None if floor is None else round(self.seconds / floor, 2),
                "note": self.note}


def measure(stage: str, images: int, step: Callable[[], object],
            floor: Callable[[], float] | None = None, note: str = "") -> Timing:
    """Time step() (the step function, files in and files out), then call floor(), which builds
    its inputs untimed and returns the seconds of the bare library work on them."""
    start = time.perf_counter()
    step()
    seconds = time.perf_counter() - start
    return Timing(stage, images, seconds, floor() if floor else None, note)


def each(fn: Callable, items: list, warmup: bool = True) -> float:
    """Seconds of fn(item) over items; torch loops first run one untimed item, so that one-off
    kernel set-up is not counted."""
    if warmup:
        fn(items[0])
    start = time.perf_counter()
    for item in items:
        fn(item)
    return time.perf_counter() - start


def epoch_samples(n: int, batch_size: int) -> int:
    """Samples fit() trains on per epoch: its last incomplete batch is dropped."""
    return min(n, steps_per_epoch(n, batch_size) * batch_size)


def fit_batches(samples, batch_size: int, seed: int, epochs: int, collate: Callable) -> list:
    """The batches mcof.training.loop.fit trains on (its sample order and its augmentation
    draws), built ahead, so that a floor times the network alone."""
    dataset = EpochDataset(samples, seed)
    used = epoch_samples(len(samples), batch_size)
    batches = []
    for epoch in range(epochs):
        dataset.epoch = epoch
        order = epoch_order(len(samples), seed, epoch)[:used]
        batches += [collate([dataset[i] for i in order[start:start + batch_size]])
                    for start in range(0, len(order), batch_size)]
    return batches


def sgd_floor(model, net: dict, batches: list, loss: Callable) -> float:
    """Bare SGD loop of fit(): forward, loss, backward, step on prebuilt batches."""
    optimizer = torch.optim.SGD(
        [{"params": params, "lr": net["lr"] * mult} for params, mult in model.param_groups()],
        lr=net["lr"], momentum=0.9, weight_decay=net["weight_decay"])
    model.train()

    def step(batch):
        optimizer.zero_grad(set_to_none=True)
        loss(model, batch).backward()
        optimizer.step()

    return each(step, batches)


@torch.no_grad()
def forward_floor(fn: Callable, inputs: list) -> float:
    """Bare inference: fn(x) for every prebuilt input, under no_grad."""
    return each(fn, inputs)


def markdown(rows: list[dict]) -> str:
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
    lines += ["| " + " | ".join("" if r[c] is None else str(r[c]) for c in cols) + " |"
              for r in rows]
    return "\n".join(lines)



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

