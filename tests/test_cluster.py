"""Cluster submission against a real SLURM (single node on localhost, started by the test):
the repository's slurm profile through the executor plugin (a pipeline, and a training cancelled
mid-way that the profile's retry resumes), and the cluster-generic profile through its
submit/status scripts."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import torch
import yaml
from workflow_utils import (ROOT, SNAKEMAKE, sacct_rows, snakemake, this_cluster, tiny_config,
                            write_config)

from mcof.files import is_temporary

pytestmark = pytest.mark.slow
CLUSTER = ROOT / "tests" / "slurm" / "cluster.sh"


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("a real SLURM needs root and Debian's packages")
    state = tmp_path_factory.mktemp("slurm")
    proc = subprocess.run(["bash", str(CLUSTER), "start", str(state)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    conf = proc.stdout.strip().splitlines()[-1]
    old = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = conf
    yield conf
    subprocess.run(["bash", str(CLUSTER), "stop", str(state)], timeout=60)
    if old is None:
        os.environ.pop("SLURM_CONF", None)
    else:
        os.environ["SLURM_CONF"] = old


def site_profile(source: Path, target: Path, edit) -> Path:
    """A copy of a repository profile with this test cluster's site settings filled in."""
    shutil.copytree(source, target)
    config = yaml.safe_load((target / "config.yaml").read_text())
    edit(config)
    (target / "config.yaml").write_text(yaml.safe_dump(config))
    return target


def test_slurm_profile_runs_the_pipeline(slurm, tmp_path):
    profile = site_profile(ROOT / "profiles" / "slurm", tmp_path / "profile", this_cluster)
    write_config(tmp_path / "run", tiny_config())
    before = {row["id"] for row in sacct_rows()}
    snakemake(tmp_path / "run", "--profile", str(profile), "results/iter1/seeds_metrics.json",
              timeout=900)
    metrics = yaml.safe_load((tmp_path / "run/results/iter1/seeds_metrics.json").read_text())
    assert metrics["n_images"] == 16
    jobs = [row for row in sacct_rows() if row["id"] not in before]
    assert len(jobs) >= 10 and all(row["state"] == "COMPLETED" for row in jobs), jobs
    gpu_jobs = [row for row in jobs if "gres/gpu=1" in row["tres"]]
    assert len(gpu_jobs) == 3, jobs  # train_classifier and the two make_cams shards
    log = (tmp_path / "run/results/logs/train_classifier.log").read_text()
    assert "device: cpu (no GPU visible)" in log  # this test cluster's GPUs are fake devices


def test_killed_training_job_is_submitted_again_and_resumes(slurm, tmp_path):
    """The classifier's job killed on its node after its second epoch: the profile's retry
    submits it again, it resumes from its last checkpoint, and the model equals an
    uninterrupted one."""
    config = tiny_config()
    config["classifier"]["epochs"] = 6
    local, run = tmp_path / "local", tmp_path / "run"
    for workdir in (local, run):
        write_config(workdir, config)
    model = "results/classifier/model.pt"
    snakemake(local, "--cores", "2", model)
    profile = site_profile(ROOT / "profiles" / "slurm", tmp_path / "profile", this_cluster)
    cmd = [SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(run),
           "--configfile", str(run / "config.yaml"), "--profile", str(profile), model]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        checkpoint = run / "results/classifier/checkpoints/epoch0002.pt"
        deadline = time.monotonic() + 600
        while not checkpoint.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "no second epoch"
            time.sleep(0.02)
        queue = subprocess.run(["squeue", "-h", "-o", "%i %k"], capture_output=True, text=True,
                               check=True).stdout.splitlines()
        job = next(line.split()[0] for line in queue if "rule_train_classifier" in line)
        # the training's process dies on its node (the OOM killer, a crashed node); scancel is
        # not used because the SLURM plugin reads its state "CANCELLED by <uid>" as running
        subprocess.run(["pkill", "-9", "-f", f"{run}/.snakemake/scripts/.*train_classifier"],
                       check=True)
        assert proc.wait(timeout=600) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    # the killed job and its retry, the last jobs of this run (sacct keeps no comments here)
    states = [row["state"] for row in sacct_rows() if int(row["id"]) >= int(job)]
    assert states[0] == "FAILED" and states[1:] == ["COMPLETED"], states
    log = (run / "results/logs/train_classifier.log").read_text()
    assert re.search(r"resuming after epoch [2-5]\b", log), log
    assert not [p for p in (run / "results").rglob("*") if is_temporary(p)]
    a = torch.load(local / model, map_location="cpu", weights_only=True)["state_dict"]
    b = torch.load(run / model, map_location="cpu", weights_only=True)["state_dict"]
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_cluster_generic_profile_with_real_submit_scripts(slurm, tmp_path):
    def edit(config):
        config["default-resources"].update(mem_mb=1000)
        config["latency-wait"] = 5
        config["seconds-between-status-checks"] = 1

    run = tmp_path / "run"
    write_config(run, tiny_config())
    profile = site_profile(ROOT / "profiles" / "cluster-generic",
                           run / "profiles" / "cluster-generic", edit)
    before = {row["id"] for row in sacct_rows()}
    snakemake(run, "--profile", str(profile), "results/superpixels/shard0.h5",
              "results/dataset/val.json", timeout=600, cwd=run)
    assert (run / "results/superpixels/shard0.h5").exists()
    jobs = [row for row in sacct_rows() if row["id"] not in before]
    assert len(jobs) >= 3 and all(row["state"] == "COMPLETED" for row in jobs), jobs
    assert any(row["name"] == "mcof.superpixels" for row in jobs)


def test_slurm_cpu_profile_asks_for_no_gpu_and_keeps_local_rules_here(slurm, tmp_path):
    """profiles/slurm-cpu: the torch rules run without a GPU; the CAM threshold curve (a local
    rule) is drawn by Snakemake itself, so only the six jobs before it reach the scheduler."""
    profile = site_profile(ROOT / "profiles" / "slurm-cpu", tmp_path / "profile", this_cluster)
    write_config(tmp_path / "run", tiny_config())
    before = {row["id"] for row in sacct_rows()}
    snakemake(tmp_path / "run", "--profile", str(profile), "results/report/cam_thresholds.svg",
              timeout=900)
    assert (tmp_path / "run/results/report/cam_thresholds.svg").stat().st_size > 1000
    jobs = [row for row in sacct_rows() if row["id"] not in before]
    # prepare_dataset, index_dataset (train), train_classifier, make_cams x 2, evaluate_cams
    assert len(jobs) == 6 and all(row["state"] == "COMPLETED" for row in jobs), jobs
    assert not [row for row in jobs if "gpu" in row["tres"]], jobs
    log = (tmp_path / "run/results/logs/train_classifier.log").read_text()
    assert "device: cpu (no GPU visible)" in log
