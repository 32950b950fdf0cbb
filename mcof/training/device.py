"""Which device a torch stage runs on, and which GPU when several jobs share a machine.

Snakemake counts GPUs (`--resources gpu=2`) but does not say which one a job gets. Locally, each
torch job therefore claims a GPU slot: an exclusive flock on <lock dir>/gpu<i>.lock. The kernel
drops the lock when the process ends, however it ends, so a crashed job never keeps a GPU.
Under a scheduler that assigns GPUs itself (SLURM sets CUDA_VISIBLE_DEVICES for the job), the
job uses the first GPU it was given and claims nothing.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
import time
from pathlib import Path

import torch

log = logging.getLogger(__name__)

_held_slots: dict[Path, tuple[int, object]] = {}
"""The slot this process holds per lock directory, with its open lock file (closing it frees
the GPU)."""


def lock_dir() -> Path:
    """Where slot locks live: $MCOF_GPU_LOCK_DIR, else one directory per user in the temp dir."""
    default = Path(tempfile.gettempdir()) / f"mcof-gpu-locks-{os.getuid()}"
    path = Path(os.environ.get("MCOF_GPU_LOCK_DIR", default))
    path.mkdir(parents=True, exist_ok=True)
    return path


def claim_slot(n_slots: int, directory: Path, wait_seconds: float = 3600.0,
               poll: float = 0.5) -> tuple[int, object]:
    """Claim the first free slot of n_slots; returns (index, open lock file). Waits if all are busy."""
    deadline = time.monotonic() + wait_seconds
    while True:
        for index in range(n_slots):
            handle = open(directory / f"gpu{index}.lock", "a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            return index, handle
        if time.monotonic() > deadline:
            raise TimeoutError(f"no free GPU slot among {n_slots} in {directory}")
        time.sleep(poll)


def own_slot(n_slots: int, directory: Path) -> tuple[int, object]:
    """This process's slot (index, open lock file): the one it already holds, else a newly
    claimed one (claim_slot).

    A second training in the same process (two steps called from one script or notebook) would
    otherwise wait for the lock it holds itself, for an hour.
    """
    if directory not in _held_slots:
        _held_slots[directory] = claim_slot(n_slots, directory)
    return _held_slots[directory]


def scheduler_assigned_gpus() -> bool:
    """True when a scheduler chose this job's GPUs (SLURM job with CUDA_VISIBLE_DEVICES set)."""
    return "SLURM_JOB_ID" in os.environ and "CUDA_VISIBLE_DEVICES" in os.environ


def choose_device(requested: str = "auto") -> torch.device:
    """'auto' -> a GPU of its own when one is visible, else cpu (said in the log)."""
    if requested not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {requested!r}")
    if requested == "cpu":
        log.info("device: cpu (as configured)")
        return torch.device("cpu")
    if not torch.cuda.is_available():
        if requested == "cuda":
            raise RuntimeError("device: cuda was asked for, but torch sees no GPU")
        log.info("device: cpu (no GPU visible)")
        return torch.device("cpu")
    if scheduler_assigned_gpus():
        device = torch.device("cuda", 0)
        log.info("device: cuda:0 of CUDA_VISIBLE_DEVICES=%s, set by the scheduler (%s)",
                 os.environ["CUDA_VISIBLE_DEVICES"], torch.cuda.get_device_name(device))
        return device
    index, handle = own_slot(torch.cuda.device_count(), lock_dir())
    device = torch.device("cuda", index)
    torch.cuda.set_device(device)
    log.info("device: cuda:%d (%s), slot %s", index, torch.cuda.get_device_name(device), handle.name)
    return device


def set_threads(threads: int) -> None:
    """Use the cores Snakemake granted the job, not all of the machine's, and deterministic
    algorithms: on the CPU, some of torch's accumulating kernels (the backward of RegionNet's
    region pooling among them) otherwise add in the order their threads happen to run, so
    the same job gives other weights when the machine is busy."""
    torch.set_num_threads(max(1, int(threads)))
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
