"""What Snakemake users expect of a workflow: local aggregation rules, memory that grows when a
profile retries, cluster profiles for GPU and CPU-only partitions, files from outside the
workflow declared as inputs, no file-system checks deciding the DAG, a licence."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
import yaml
from PIL import Image

from workflow_utils import ROOT, planned_jobs, snakemake, tiny_config, write_config

LOCAL = {"evaluate", "compare_runs", "plot_miou_curve", "stage_table", "plot_diagnostics",
         "plot_class_iou", "plot_cam_thresholds", "plot_training", "qualitative_sample"}
"""The rules that only gather a few small files into one: run by Snakemake itself on a cluster."""


def rule_blocks() -> dict[str, str]:
    """Every rule of rules/*.smk and the Snakefile: name -> its text."""
    blocks = {}
    for path in [ROOT / "Snakefile", *sorted((ROOT / "rules").glob("*.smk"))]:
        parts = re.split(r"^rule (\w+):\n", path.read_text(), flags=re.M)
        for name, body in zip(parts[1::2], parts[2::2]):
            blocks[name] = re.split(r"^\S", body, maxsplit=1, flags=re.M)[0]
    return blocks


def local_rules() -> set[str]:
    names = set()
    for path in sorted((ROOT / "rules").glob("*.smk")):
        for body in re.findall(r"^localrules:\n((?:[ \t]+\w+,?\n)+)", path.read_text(), re.M):
            names |= set(re.findall(r"\w+", body))
    return names


def torch_rules() -> set[str]:
    return {name for name, body in rule_blocks().items() if re.search(r"\bgpu=1\b", body)}


def test_aggregation_and_plotting_rules_are_local():
    blocks = rule_blocks()
    assert local_rules() == LOCAL
    assert LOCAL <= set(blocks)
    assert not LOCAL & torch_rules()


def test_memory_grows_with_the_attempt_where_a_profile_retries():
    """Every torch rule asks for mem_per_attempt(mb); every mem_mb of a profile that retries is
    an expression in attempt that doubles on the second attempt, as Snakemake evaluates it."""
    assert torch_rules() >= {"train_classifier", "make_cams", "train_regionnet", "infer_regionnet",
                             "train_pixelnet", "predict_pixelnet", "train_affinity"}
    for name in torch_rules():
        assert re.search(r"mem_mb=mem_per_attempt\(\d+\)", rule_blocks()[name]), name
    retrying = []
    for path in sorted((ROOT / "profiles").glob("*/config.yaml")):
        profile = yaml.safe_load(path.read_text())
        if not profile.get("retries"):
            continue
        retrying.append(path.parent.name)
        values = [profile["default-resources"]["mem_mb"]]
        values += [r["mem_mb"] for r in profile.get("set-resources", {}).values() if "mem_mb" in r]
        for value in values:
            first, second = (eval(str(value), {"attempt": a}) for a in (1, 2))
            assert second == 2 * first, (path, value)
    assert set(retrying) == {"slurm", "slurm-cpu", "cluster-generic"}


def test_slurm_profiles_for_gpu_and_cpu_only_partitions():
    gpu = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    cpu = yaml.safe_load((ROOT / "profiles/slurm-cpu/config.yaml").read_text())
    for name in torch_rules():
        assert gpu["set-resources"][name]["slurm_partition"] == "gpu", name
        assert cpu["set-resources"][name]["gpu"] == 0, name
        assert cpu["set-resources"][name].get("slurm_partition", "cpu") == "cpu", name
    assert cpu["default-resources"]["slurm_partition"] == "cpu"
    text = (ROOT / "profiles/slurm/config.yaml").read_text()
    for commented in ("# slurm_account:", "gpu_model: a100", 'gres: "gpu:a100:1"'):
        assert commented in text, commented


def test_no_file_system_checks_while_the_snakefile_is_parsed():
    """The DAG comes from the config alone: no exists/isfile/isdir/listdir in the Snakefile or
    the rules (the one listing, of the user's external saliency maps, names inputs, and
    check_config's checks only stop a run). The one exception is redone_if_inputs_gone, an input
    function of the result rules: it looks for the workflow's own outputs when the DAG is built,
    never for the user's files."""
    for path in [ROOT / "Snakefile", *sorted((ROOT / "rules").glob("*.smk"))]:
        text = path.read_text()
        if path.name == "common.smk":
            start = text.index("def redone_if_inputs_gone(")
            end = text.index("\n\n\n", start) if "\n\n\n" in text[start:] else len(text)
            assert text[start:end].count("os.path.exists(") == 1
            text = text[:start] + text[end:]
        assert not re.search(r"\b(exists|isfile|isdir|listdir|scandir|is_file|is_dir)\(", text), path
        assert len(re.findall(r"\bglob\.glob\(", text)) == (path.name == "common.smk"), path


def test_licence_is_mit():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 mcof-workflow contributors\n")
    assert "pydensecrf2" not in (ROOT / "requirements.txt").read_text()


@pytest.mark.slow
def test_external_saliency_maps_and_weights_are_inputs(tmp_path):
    """A weights file and the external maps are inputs of the rules that read them; rewriting
    one map reruns the saliency shards and what follows, and nothing before them."""
    maps = tmp_path / "maps"
    maps.mkdir()
    run = tmp_path / "run"
    config = tiny_config()
    config["saliency"].update(method="external", external_dir=str(maps))
    write_config(run, config)
    snakemake(run, "--cores", "1", "results/dataset/train.json")
    lists = run / "results/dataset/VOC2012/ImageSets/Segmentation"
    ids = (lists / "train.txt").read_text().split()
    for i, image_id in enumerate(ids):
        grey = np.full((48, 48), 10 * i % 255, np.uint8)
        Image.fromarray(grey).save(maps / f"{image_id}.png")
    targets = ("results/saliency/shard0.h5", "results/saliency/shard1.h5",
               "results/saliency_metrics.json")
    snakemake(run, "--cores", "2", *targets)
    assert "Nothing to be done" in snakemake(run, "-n", "--cores", "1", *targets).stdout
    time.sleep(1)
    Image.fromarray(np.zeros((48, 48), np.uint8)).save(maps / f"{ids[-1]}.png")
    out = snakemake(run, "-n", "--cores", "1", *targets).stdout
    assert planned_jobs(out) == {"saliency": 2, "evaluate_saliency": 1}
    reasons = [line for line in out.splitlines() if "reason:" in line]
    assert any(f"{maps}/{ids[-1]}.png" in line for line in reasons), reasons

    weights = tmp_path / "tiny.pth"
    weights.write_bytes(b"not read by a dry run")
    config["classifier"]["weights"] = str(weights)
    write_config(run, config)
    out = snakemake(run, "-n", "--cores", "1", "results/classifier/model.pt").stdout
    block = out.split("rule train_classifier:")[1].split("\n\n")[0]
    assert re.search(r"input: .*" + re.escape(str(weights)), block), block
