"""What a run ran with: package versions, the device, the code's git commit, the config's hash.

Every iteration's metrics.json carries this record (mcof.steps.evaluate.summarize_iteration),
and every training writes the device it ran on into its history CSV (mcof.training.loop), so a
number can be traced to the code, the settings and the hardware that produced it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import subprocess
from pathlib import Path

RECORDED_PACKAGES = ("torch", "torchvision", "snakemake", "numpy")


def config_sha256(config: dict) -> str:
    """sha256 of the config as canonical JSON (sorted keys): equal settings, equal hash,
    whatever the order or the comments of the YAML files they came from."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def package_versions(names=RECORDED_PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (None where it is not installed), and Python's."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def cpu_model(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """The CPU's model name ('model name' in /proc/cpuinfo, else what platform knows)."""
    try:
        for line in Path(cpuinfo).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def describe_device(device) -> str:
    """One line naming a torch device: 'NVIDIA H100 80GB HBM3 (CUDA 12.4)' or 'CPU: <model>'."""
    if getattr(device, "type", str(device)) == "cuda":
        import torch

        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"{torch.cuda.get_device_name(index)} (CUDA {torch.version.cuda})"
    return f"CPU: {cpu_model()}"


def host_devices() -> dict:
    """The machine this process runs on: its CPU model, and the GPU torch sees (with the CUDA
    version torch was built with) or None."""
    gpu = cuda = None
    try:
        import torch

        if torch.cuda.is_available():
            gpu, cuda = torch.cuda.get_device_name(0), torch.version.cuda
    except ImportError:
        pass
    return {"cpu": cpu_model(), "gpu": gpu, "cuda": cuda}


def git_commit(directory: str | Path | None) -> dict:
    """{'commit': HEAD's hash, 'dirty': uncommitted changes to tracked files} of the git checkout
    holding directory; both None where it is not one (or git is missing)."""
    def git(*args):
        return subprocess.run(["git", "-C", str(directory), *args], capture_output=True,
                              text=True, timeout=30)

    if directory is None or not Path(directory).is_dir():
        return {"commit": None, "dirty": None}
    try:
        head = git("rev-parse", "--verify", "HEAD")
        if head.returncode != 0:
            return {"commit": None, "dirty": None}
        status = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.TimeoutExpired):
        return {"commit": None, "dirty": None}
    dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
    return {"commit": head.stdout.strip(), "dirty": dirty}


def run_record(*, workflow_dir: str | None, config_sha256: str | None,
               snakemake_version: str | None = None,
               trainings: dict[str, str] | None = None) -> dict:
    """The record an iteration's metrics.json carries.

    trainings: history CSV -> the device that training ran on; 'device' names the devices of
    all of them (one, unless they ran on different machines), or this machine's when there are
    none. host: the machine writing the record. snakemake_version: of the Snakemake running the
    workflow (a job in a conda environment without Snakemake would otherwise report none).
    """
    packages = package_versions()
    if snakemake_version:
        packages["snakemake"] = snakemake_version
    trainings = dict(trainings or {})
    host = host_devices()
    used = sorted({d for d in trainings.values() if d})
    if used:
        device = "; ".join(used)
    else:
        device = f"{host['gpu']} (CUDA {host['cuda']})" if host["gpu"] else f"CPU: {host['cpu']}"
    git = git_commit(workflow_dir)
    return {"packages": packages, "device": device, "trainings": trainings,
            "host": host, "git_commit": git["commit"], "git_dirty": git["dirty"],
            "config_sha256": config_sha256}
