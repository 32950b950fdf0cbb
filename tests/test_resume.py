"""Killed runs resume: a training from its last epoch checkpoint, a whole workflow from its
finished jobs; both end with exactly what an uninterrupted run gives (CPU, fixed threads)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch

from workflow_utils import ROOT, SNAKEMAKE, planned_jobs, snakemake, tiny_config, write_config

pytestmark = pytest.mark.slow


def start(workdir: Path, *targets: str) -> subprocess.Popen:
    """snakemake in its own process group, so that a kill takes its jobs down with it."""
    cmd = [SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(workdir / "config.yaml"), "--cores", "2", *targets]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def kill_when(proc: subprocess.Popen, ready, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            raise AssertionError("the run ended before it could be killed")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError("the run never reached the point to kill it at")
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def weights(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]


def test_killed_training_resumes_from_its_checkpoint(tmp_path):
    config = tiny_config()
    config["dataset"]["synthetic"].update(n_train=48, size=64)
    config["classifier"].update(epochs=12, crop=64)
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    for workdir in (straight, killed):
        write_config(workdir, config)
    snakemake(straight, "--cores", "2", "results/classifier/model.pt")

    checkpoints = killed / "results/classifier/checkpoints"
    proc = start(killed, "results/classifier/model.pt")
    kill_when(proc, lambda: any(int(p.stem[5:]) >= 2 for p in checkpoints.glob("epoch*.pt")))
    assert not (killed / "results/classifier/model.pt").exists()

    snakemake(killed, "--unlock")
    snakemake(killed, "--cores", "2", "--rerun-incomplete", "results/classifier/model.pt")
    log = (killed / "results/logs/train_classifier.log").read_text()
    assert "resuming after epoch" in log
    assert "classifier epoch 1/12" not in log
    a, b = weights(straight / "results/classifier/model.pt"), weights(killed / "results/classifier/model.pt")
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_killed_workflow_redoes_only_unfinished_jobs(iteration_one_run, tmp_path):
    """Killed after iteration 1's RegionNet, resumed: its miou.txt equals that of the
    uninterrupted run of the same config (conftest.iteration_one_run)."""
    straight, killed = iteration_one_run.workdir, tmp_path / "killed"
    write_config(killed, tiny_config())
    target = "results/iter1/miou.txt"

    proc = start(killed, target)
    # iteration 1's regions exist only after its RegionNet job has finished and been recorded
    kill_when(proc, lambda: (killed / "results/iter1/regions/shard0.h5").exists())
    snakemake(killed, "--unlock")
    plan = planned_jobs(snakemake(killed, "-n", "--cores", "2", "--rerun-incomplete", target).stdout)
    assert "train_pixelnet" in plan and "train_regionnet" not in plan
    assert not {"prepare_dataset", "index_dataset", "train_classifier", "make_cams",
                "superpixels", "seeds_from_cam"} & set(plan)
    snakemake(killed, "--cores", "2", "--rerun-incomplete", target)
    assert (killed / target).read_text() == (straight / target).read_text()
