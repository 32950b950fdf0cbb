"""Running the real Snakemake workflow on a tiny generated dataset, in a temporary directory."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def tiny_config(**overrides) -> dict:
    """config.yaml shrunk so that two iterations run in about a minute on 2 CPU cores."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["dataset"]["synthetic"].update(n_train=16, n_val=8, n_test=8, size=48, n_classes=3)
    config["iterations"] = 2
    config["shards"]["train"] = 2  # the per-image stages' sharding is part of what runs
    config["classifier"].update(epochs=2, batch_size=8, crop=48)
    config["regionnet"].update(epochs=2, batch_size=8)
    config["pixelnet"].update(epochs=2, batch_size=8, crop=48)
    config["superpixels"]["min_size"] = 10
    config["saliency"]["pixels_per_region"] = 40
    config["threads"] = 1
    config["report_samples"] = 2
    for key, value in overrides.items():
        config[key] = value
    return copy.deepcopy(config)


def write_config(workdir: Path, config: dict) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def snakemake(workdir: Path, *args: str, check: bool = True, timeout: int = 600,
              **popen) -> subprocess.CompletedProcess:
    """Run snakemake on the repository's Snakefile with workdir/config.yaml, in workdir."""
    cmd = [SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(workdir / "config.yaml"), *args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, **popen)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc


def copy_run(source: Path, target: Path) -> Path:
    """A copy of a finished workflow directory that Snakemake takes as finished too (file times
    and its .snakemake records kept), for a test that changes what it finds there."""
    shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    return target


def planned_jobs(output: str) -> dict[str, int]:
    """Job counts of a dry run's 'Job stats' table."""
    counts, in_table = {}, False
    for line in output.splitlines():
        if line.startswith("job ") and "count" in line:
            in_table = True
            continue
        if in_table:
            parts = line.split()
            if not parts or set(line.strip()) <= {"-", " "}:
                continue
            if parts[0] == "total":
                break
            counts[parts[0]] = int(parts[1])
    return counts


def this_cluster(config):
    """profiles/slurm's site settings for the test cluster: its partition, its memory, one
    thread per job (as the local runs these are compared with), and job states asked every
    second instead of every ten (a test's jobs are short)."""
    config["default-resources"].update(slurm_partition="debug", mem_mb=1000)
    for rule in config["set-resources"].values():
        rule.update(slurm_partition="debug", mem_mb=1000)
    config["set-threads"] = {rule: 1 for rule in config["set-threads"]}
    config["slurm-init-seconds-before-status-checks"] = 1
    config["seconds-between-status-checks"] = 1
    config["latency-wait"] = 5


def sacct_rows(env: dict | None = None) -> list[dict]:
    """Every job the test cluster's accounting knows. sacct alone lists only jobs since
    midnight, so a run that crosses midnight would lose its first jobs: ask from 2000 on."""
    out = subprocess.run(["sacct", "-n", "-X", "-P", "-S", "2000-01-01",
                          "-o", "JobID,JobName,State,AllocTRES"],
                         capture_output=True, text=True, check=True, env=env).stdout
    return [dict(zip(("id", "name", "state", "tres"), line.split("|"))) for line in out.splitlines()]
