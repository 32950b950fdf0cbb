"""Model files and per-epoch training checkpoints.

Everything is saved as plain tensors and built-in types and loaded with weights_only=True, so a
checkpoint can never run code. A model file records the architecture it was built with; loading
it as another kind of network, or with another class count, is a CheckpointError.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import torch
from torch import nn

from mcof.files import atomic_path, remove_stale_temporaries

log = logging.getLogger(__name__)


class CheckpointError(ValueError):
    """A model or checkpoint file does not fit what the caller expects."""


def _atomic_save(obj: dict, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def _load(path: Path) -> dict:
    """The one place a file is unpickled: tensors and built-in types only (weights_only)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def file_identity(*paths: str | Path) -> list[tuple[str, int, int]]:
    """(name, size, mtime) of input files: a resumed training must see the same inputs."""
    out = []
    for path in paths:
        st = os.stat(path)
        out.append((Path(path).name, st.st_size, st.st_mtime_ns))
    return out


def save_model(path: str | Path, model: nn.Module, **extra) -> None:
    """Write {arch, state_dict, **extra}; model.arch holds the constructor's keyword arguments."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    _atomic_save({"arch": dict(model.arch), "state_dict": state, **extra}, Path(path))


def read_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"model file not found: {path}")
    try:
        ckpt = _load(path)
    except Exception as err:  # torch raises several unrelated types for bad files
        raise CheckpointError(f"cannot read model file {path}: {err}") from err
    if not isinstance(ckpt, dict) or "arch" not in ckpt or "state_dict" not in ckpt:
        raise CheckpointError(f"{path} is not an mcof model file (no arch/state_dict)")
    return ckpt


def load_model(path: str | Path, kind: str, n_classes: int | None = None) -> nn.Module:
    """Build the network a model file describes and load its weights (on the CPU)."""
    from mcof.models import build_model

    ckpt = read_checkpoint(path)
    arch = ckpt["arch"]
    if arch.get("kind") != kind:
        raise CheckpointError(f"{path} holds a {arch.get('kind')!r} network, expected {kind!r}")
    if n_classes is not None and arch.get("n_classes") != n_classes:
        raise CheckpointError(
            f"{path} was trained for {arch.get('n_classes')} classes, but the dataset has "
            f"{n_classes}")
    model = build_model(arch)
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as err:
        raise CheckpointError(f"{path} does not fit architecture {arch}: {err}") from err
    return model


def init_backbone(features: nn.Module, backbone: str, path: str) -> None:
    """Start a network's backbone from a trained network's: the classifier's (it already knows
    the classes; on the CPU default, without ImageNet weights, this is what pretraining is for the
    paper's nets) or the previous iteration's PixelNet (it knows the objects' extent too).
    """
    from mcof.models import BACKBONE_OF

    ckpt = read_checkpoint(path)
    arch = ckpt["arch"]
    found = {"classifier": arch.get("backbone"),
             "pixelnet": BACKBONE_OF.get(arch.get("arch"))}.get(arch.get("kind"))
    if found != backbone:
        raise CheckpointError(
            f"a {backbone} backbone cannot start from {path}, which holds a "
            f"{found or arch.get('backbone')!r} {arch.get('kind')!r}")
    prefix = "features."
    state = {k[len(prefix):]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
    try:
        features.load_state_dict(state)
    except RuntimeError as err:
        raise CheckpointError(f"{path} does not fit the {backbone} backbone: {err}") from err


def signature_digest(signature: dict) -> str:
    text = json.dumps(signature, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class EpochCheckpoints:
    """Per-epoch training state in a directory, so a killed training resumes where it stopped.

    A checkpoint is only resumed when its signature (architecture, schedule, inputs) matches the
    current run's; stale ones from another configuration are removed instead.
    """

    def __init__(self, directory: str | Path, signature: dict, keep: int = 2):
        self.directory = Path(directory)
        self.digest = signature_digest(signature)
        self.keep = keep

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("epoch*.pt"))

    def latest(self) -> dict | None:
        """The newest checkpoint of this run as a dict (epoch, model, optimizer), or None.

        Called when a training starts: the temporary files of a training killed while saving
        (on any host, so also before a cluster retries the job elsewhere) are removed first, as
        nothing else writes into a training's checkpoint directory.
        """
        remove_stale_temporaries(self.directory, everything=True)
        for path in reversed(self._files()):
            try:
                state = _load(path)
            except Exception as err:
                log.warning("ignoring unreadable checkpoint %s: %s", path, err)
                continue
            if state.get("digest") == self.digest:
                return state
            log.info("removing checkpoint %s of another configuration", path)
            path.unlink(missing_ok=True)
        return None

    def save(self, epoch: int, model: nn.Module, optimizer: torch.optim.Optimizer, **extra) -> None:
        state = {"digest": self.digest, "epoch": epoch, "model": model.state_dict(),
                 "optimizer": optimizer.state_dict(), **extra}
        _atomic_save(state, self.directory / f"epoch{epoch:04d}.pt")
        for old in self._files()[: -self.keep]:
            old.unlink(missing_ok=True)
