"""The epoch loop shared by the classifier, RegionNet and PixelNet.

Deterministic by construction: the sample order and every augmentation draw come from
(seed, epoch, index), torch's generator is reseeded at each epoch and the poly learning rate is a
function of the global step. A run resumed from an epoch checkpoint therefore continues exactly
as the uninterrupted run would have.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from mcof.record import describe_device
from mcof.training.checkpoint import EpochCheckpoints
from mcof.training.history import write_history

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Schedule:
    """SGD with momentum and the poly learning-rate policy of DeepLab."""

    epochs: int
    batch_size: int
    lr: float
    momentum: float = 0.9
    weight_decay: float = 5e-4
    power: float = 0.9
    seed: int = 0


class SampleSource(Protocol):
    def __len__(self) -> int: ...

    def sample(self, index: int, rng: np.random.Generator): ...


class EpochDataset(torch.utils.data.Dataset):
    """Feeds source.sample(i, rng) with an rng that depends only on (seed, epoch, i)."""

    def __init__(self, source: SampleSource, seed: int):
        self.source, self.seed, self.epoch = source, seed, 0

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int):
        return self.source.sample(index, np.random.default_rng([self.seed, self.epoch, index]))


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    return np.random.default_rng([seed, epoch, n]).permutation(n).tolist()


def poly_lr(base: float, step: int, total: int, power: float) -> float:
    return base * (1.0 - step / max(total, 1)) ** power


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Batches per epoch: the last incomplete batch is dropped unless it would be the only one."""
    return max(1, n // batch_size)


def fit(
    model: nn.Module,
    source: SampleSource,
    collate: Callable,
    step_fn: Callable[[nn.Module, object, torch.device], tuple[torch.Tensor, dict]],
    param_groups: list[tuple[list[nn.Parameter], float]],
    schedule: Schedule,
    checkpoints: EpochCheckpoints,
    device: torch.device,
    workers: int = 0,
    amp: bool = False,
    desc: str = "train",
    history_path: str | None = None,
) -> list[dict]:
    """Train model in place; returns one dict of statistics per epoch run in this call.

    step_fn(model, batch, device) -> (loss, counts): counts such as {"correct": n, "total": m}
    are summed over the epoch and logged as their ratio.
    param_groups: (parameters, learning-rate multiplier), e.g. 10x for freshly initialised heads.
    history_path: CSV of every epoch's statistics (mcof.training.history), rewritten after each
    epoch; the epochs before a resume come from the checkpoint.
    """
    if len(source) == 0:
        raise ValueError(f"{desc}: no training samples")
    optimizer = torch.optim.SGD(
        [{"params": params, "lr_mult": mult} for params, mult in param_groups],
        lr=schedule.lr, momentum=schedule.momentum, weight_decay=schedule.weight_decay)
    model.to(device)
    cuda = device.type == "cuda"
    if cuda:
        model.to(memory_format=torch.channels_last)
    start, earlier = 0, []
    state = checkpoints.latest()
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start = int(state["epoch"])
        earlier = list(state.get("history", []))
        log.info("%s: resuming after epoch %d from %s", desc, start, checkpoints.directory)
    dataset = EpochDataset(source, schedule.seed)
    per_epoch = steps_per_epoch(len(source), schedule.batch_size)
    total = schedule.epochs * per_epoch
    history = []
    device_name = describe_device(device)
    for epoch in range(start, schedule.epochs):
        torch.manual_seed(schedule.seed * 100003 + epoch)
        dataset.epoch = epoch
        order = epoch_order(len(source), schedule.seed, epoch)[: per_epoch * schedule.batch_size]
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=schedule.batch_size, sampler=order, collate_fn=collate,
            num_workers=workers, pin_memory=cuda)
        model.train()
        began, loss_sum, counts = time.time(), 0.0, {}
        for step, batch in enumerate(tqdm(loader, desc=f"{desc} {epoch + 1}/{schedule.epochs}",
                                          leave=False, mininterval=2, disable=None)):
            lr = poly_lr(schedule.lr, epoch * per_epoch + step, total, schedule.power)
            for group in optimizer.param_groups:
                group["lr"] = lr * group["lr_mult"]
            autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda and amp else contextlib.nullcontext()
            with autocast:
                loss, batch_counts = step_fn(model, batch, device)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += float(loss.detach())
            for key, value in batch_counts.items():
                counts[key] = counts.get(key, 0) + float(value)
        stats = {"epoch": epoch + 1, "loss": loss_sum / per_epoch, "lr": lr,
                 "seconds": time.time() - began, "device": device_name}
        if counts.get("total"):
            stats["accuracy"] = counts["correct"] / counts["total"]
        history.append(stats)
        log.info("%s epoch %d/%d loss %.4f%s lr %.2e %.1fs", desc, epoch + 1, schedule.epochs,
                 stats["loss"], f" accuracy {stats['accuracy']:.4f}" if "accuracy" in stats else "",
                 lr, stats["seconds"])
        checkpoints.save(epoch + 1, model, optimizer, history=earlier + history)
        if history_path:
            write_history(history_path, earlier + history)
    if history_path and not history:  # every epoch was done before: the file still gets written
        write_history(history_path, earlier)
    model.eval()
    return history


def train_and_save(model: nn.Module, samples: SampleSource, step_fn: Callable, *, model_path: str,
                   checkpoint_dir: str, schedule: Schedule, inputs: list[str], settings: dict,
                   device: str, workers: int, amp: bool, desc: str,
                   collate: Callable | None = None, history: str | None = None) -> list[dict]:
    """The shape every training shares: resumable epochs, then the model file.

    The checkpoints' signature is the architecture, the schedule, the identity of the input
    files and the training's own settings, so a checkpoint is resumed only by the same training.
    history: the per-epoch CSV (loss, accuracy, learning rate, seconds, device) beside the model.
    """
    from mcof.training.checkpoint import file_identity, save_model
    from mcof.training.device import choose_device

    signature = {"arch": model.arch, "schedule": schedule.__dict__,
                 "inputs": file_identity(*inputs), **settings}
    epochs = fit(model, samples, collate, step_fn, model.param_groups(), schedule,
                 EpochCheckpoints(checkpoint_dir, signature), choose_device(device),
                 workers=workers, amp=amp, desc=desc, history_path=history)
    save_model(model_path, model.cpu(), history=epochs)
    return epochs
