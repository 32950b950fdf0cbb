"""Measure the method's levers: each a change of config.yaml, run 5 iterations on an embedded
dataset from nothing, with the figures that decide whether a lever stays.

    python bench/levers.py --dataset synthetic --levers defaults,keep_classes
    python bench/levers.py --dataset photos --levers all --comparisons

For every lever it writes bench/results/levers/<dataset>/<lever>/ (a workflow directory with the
whole run) and prints one table row: val and test mIoU of iterations 1 and 5 (choices are made on
val; test is reported), the weak/full ratio on test (with --comparisons, which also runs the
direct, no-saliency and fully supervised runs), the object recall of the seeds and of PixelNet's
training-set masks per iteration, the lowest training-set class IoU of any weak stage, and the
wall time. The rows also go to bench/results/levers/<dataset>.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from mcof.artifacts import ArtifactReader
from mcof.data.voc import DatasetIndex
from mcof.layout import MAIN_ROOT, SEEDS, artifact, index_file, iteration_metrics

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "levers"
COMPARISON = f"{MAIN_ROOT}/comparison.json"  # the rule compare_runs's output

# Each lever: changes to config.yaml. Later levers may build on earlier ones by name ("+").
LEVERS: dict[str, dict] = {
    "defaults": {},
    # config.yaml before class keeping and all mask votes became the defaults (2026-11-25)
    "earlier_defaults": {"seeds": {"mask_min_confidence": 0.9, "mask_min_share": 0.5,
                                   "keep_every_class": False},
                         "regionnet": {"keep_every_class": False, "keep_mask_objects": None,
                                       "init_from": "classifier"},
                         "refine": {"multi_class": "keep"}},
    "keep_classes_only": {"seeds": {"mask_min_confidence": 0.9, "mask_min_share": 0.5},
                          "regionnet": {"keep_every_class": True, "keep_mask_objects": None,
                                        "init_from": "classifier"},
                          "refine": {"multi_class": "keep"}},
    "keep_mask_objects": {"regionnet": {"keep_mask_objects": 0.9}},
    "keep_classes": {"seeds": {"keep_every_class": True}, "regionnet": {"keep_every_class": True}},
    "crf_loop": {"crf": {"loop": True}},
    "crf_final": {"crf": {"final": True}},
    "multiscale_test": {"pixelnet": {"test_scales": [0.75, 1.0, 1.25]}},
    "multiscale_cam": {"cam": {"scales": [1.0, 0.5, 1.5, 2.0]}},
    "relabel_first": {"regionnet": {"seed_override": [None, 0.9]}},
    "pooled_both": {"regionnet": {"pooled": "both"}},
    # the default since 2026-11-26; the runs named keep_classes_only+keep_mask_objects (+...)
    # before it started RegionNet from the classifier, as keep_classes_only now says
    "regionnet_from_pixelnet": {"regionnet": {"init_from": "pixelnet"}},
    "regionnet_from_classifier": {"regionnet": {"init_from": "classifier"}},
    # the default since 2026-11-26 (earlier_defaults and keep_classes_only set "keep")
    "multi_class_refine": {"refine": {"multi_class": "saliency"}},
    # every superpixel takes PixelNet's majority label as its seed (keep_mask_objects then has
    # nothing to act on); with keep_classes, config.yaml of 2026-11-25
    "all_mask_votes": {"seeds": {"mask_min_confidence": 0.0, "mask_min_share": 0.0}},
    "rw_cams": {"affinity": {"cams": True}},
    "rw_masks": {"affinity": {"masks": True}},
    "all_targets": {"pixelnet": {"min_label_confidence": 0.0}},
    # iterations > 1 train RegionNet and PixelNet 4 epochs instead of 8: both start from
    # PixelNet k-1 there, and they are most of the default run's time
    "short_later": {"regionnet": {"epochs": [8, 4]}, "pixelnet": {"epochs": [8, 4]}},
    # the runs before one training shard became the default (2026-11-26) had two: a lever
    # started from one of them with this reuses its sharded artifacts instead of redoing them
    "two_train_shards": {"shards": {"train": 2}},
    # iteration 1's CAM seeds: a superpixel of mean CAM 0.5 or more is an object seed (0.7: the
    # weakest synthetic class's seeds at 13.1 train IoU, every class under 20; 0.5: 21.0)
    "wider_cam_seeds": {"seeds": {"object_threshold": 0.5}},
    # iterations > 1: PixelNet pixels of confidence 0.8 or more vote for the seeds (0.9: the
    # weakest synthetic class's iteration-2 seeds at 17.1 train IoU; 0.8: 32.9)
    "wider_mask_seeds": {"seeds": {"mask_min_confidence": 0.8}},
}


def merge(base: dict, change: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


DATASETS: dict[str, dict] = {
    "synthetic": {"source": "synthetic"},
    "photos": {"source": "photos"},
    # the photos with every object cut in a random blob, at 128 px: no class told by its shape
    "photo_blobs": {"source": "photos", "photos": {"outlines": "blob", "size": 128}},
}
"""Each --dataset: the change of config.yaml's dataset section that makes it."""


def lever_config(dataset: str, names: list[str], comparisons: bool) -> dict:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["dataset"] = merge(config["dataset"], DATASETS[dataset])
    for name in names:
        config = merge(config, LEVERS[name])
    if not comparisons:
        config["comparisons"] = {}
    return config


def metrics_files(iterations: int) -> list[str]:
    """The main run's metrics.json of every iteration, relative to the workflow directory."""
    return [iteration_metrics(MAIN_ROOT, k) for k in range(1, iterations + 1)]


def run(workdir: Path, config: dict, iterations: int, comparisons: bool, snakemake: str,
        copied: bool = False, cores: int = 2) -> float:
    """Run the workflow in workdir; copied: workdir is a copy of another lever's run, whose jobs
    rerun only when their settings, inputs or files changed, not because the copy's Snakefile
    lives elsewhere (Snakemake's code trigger would redo the whole run)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    targets = metrics_files(iterations) + ([COMPARISON] if comparisons else [])
    cmd = [snakemake, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(workdir / "config.yaml"), "--cores", str(cores),
           *(["--rerun-triggers", "mtime", "params", "input", "software-env"] if copied else []),
           "--rerun-incomplete", *targets]
    began = time.time()
    with open(workdir / "snakemake.log", "w") as log:
        proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise SystemExit(f"{workdir}: snakemake failed, see {workdir / 'snakemake.log'}")
    return time.time() - began


def images_missing_a_class(workdir: Path, k: int) -> int:
    """Training images whose seeds of iteration k hold no region of a class their labels name."""
    index = DatasetIndex.load(workdir / index_file("train"))
    shards = sorted((workdir / artifact(MAIN_ROOT, k, SEEDS, "0")).parent.glob("shard*.h5"))
    with ArtifactReader(shards, SEEDS) as seeds:
        return sum(not set(index.labels[i]) <= set(seeds.read(i, "labels").tolist())
                   for i in index.ids)


def summarize(workdir: Path, iterations: int, seconds: float, comparisons: bool) -> dict:
    metrics = [json.loads((workdir / path).read_text()) for path in metrics_files(iterations)]
    row = {
        "val": [m.get("val_miou") for m in metrics],
        "test": [m.get("test_miou") for m in metrics],
        "train": [m["train_miou"] for m in metrics],
        "seed_recall": [m["diagnostics"].get("seeds", {}).get("object_recall") for m in metrics],
        "mask_recall": [m["diagnostics"]["train_masks"]["object_recall"] for m in metrics],
        "mask_precision": [m["diagnostics"]["train_masks"]["object_precision"] for m in metrics],
        "min_class_iou": min(
            (v or 0.0) for m in metrics for stage in ("seeds", "regions", "train_masks")
            for name, v in m["train_iou"].get(stage, {}).items() if name != "background"),
        "images_missing_a_class": [images_missing_a_class(workdir, k)
                                   for k in range(1, iterations + 1)],
        "seconds": round(seconds, 1),
    }
    if comparisons:
        runs = json.loads((workdir / COMPARISON).read_text())["runs"]
        for root, table in runs.items():
            name = root.rsplit("/", 1)[-1] if root != MAIN_ROOT else "mcof"
            row[f"{name}_test"] = list(table["test_miou"].values())
        row["ratio"] = row["test"][-1] / row["full_test"][0]
    return row


def table_line(name: str, row: dict) -> str:
    def fmt(v):
        return "-" if v is None else f"{v:.1f}"

    k = len(row["test"])
    cells = [name, fmt(row["val"][0]), fmt(row["val"][-1]), fmt(row["test"][0]),
             fmt(row["test"][-1]), f"{row['ratio']:.2f}" if "ratio" in row else "-",
             " ".join(fmt(v) for v in row["seed_recall"]),
             " ".join(fmt(v) for v in row["mask_recall"]),
             fmt(row["min_class_iou"]), f"{row['seconds']:.0f}"]
    if "direct_test" in row:
        cells += [fmt(row["direct_test"][-1]), fmt(row["no_saliency_test"][-1]),
                  fmt(row["full_test"][0])]
    return "| " + " | ".join(cells) + f" |  <!-- {k} iterations -->"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=list(DATASETS), default="synthetic")
    parser.add_argument("--levers", default="defaults",
                        help="comma-separated lever names, 'a+b' to combine, or 'all'")
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--comparisons", action="store_true",
                        help="also run the direct, no-saliency and fully supervised runs")
    parser.add_argument("--fresh", action="store_true", help="delete a lever's earlier run first")
    parser.add_argument("--start-from", metavar="LEVER",
                        help="start from a copy of another lever's run: Snakemake then reruns only "
                             "the jobs whose settings differ (a lever of later iterations reuses "
                             "iteration 1); the wall time is then not a run's from nothing")
    parser.add_argument("--snakemake", default=str(Path(sys.executable).with_name("snakemake")))
    parser.add_argument("--cores", type=int, default=2, help="Snakemake's --cores per lever run")
    parser.add_argument("--change", type=json.loads, default={}, metavar="JSON",
                        help="a change of config.yaml for every lever, e.g. '{\"device\": \"cuda\"}'")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="where the lever runs and the rows go (default bench/results/levers)")
    args = parser.parse_args(argv)
    names = list(LEVERS) if args.levers == "all" else args.levers.split(",")
    out_json = args.results / f"{args.dataset}.json"
    print("| lever | val 1 | val 5 | test 1 | test 5 | test 5 / full | seed recall | mask recall "
          "| min class IoU | s |"
          + (" direct 5 | no saliency 5 | full |" if args.comparisons else ""))
    for name in names:
        parts = name.split("+")
        unknown = [p for p in parts if p not in LEVERS]
        if unknown:
            raise SystemExit(f"unknown lever {', '.join(unknown)}; levers: {', '.join(LEVERS)}")
        workdir = args.results / args.dataset / name
        if args.fresh:
            shutil.rmtree(workdir, ignore_errors=True)
        copied = bool(args.start_from)
        if args.start_from and not workdir.exists():
            source = args.results / args.dataset / args.start_from
            shutil.copytree(source, workdir, symlinks=True,
                            ignore=shutil.ignore_patterns("snakemake.log", "locks", "incomplete"))
        config = merge(lever_config(args.dataset, parts, args.comparisons), args.change)
        config["iterations"] = args.iterations
        seconds = run(workdir, config, args.iterations, args.comparisons, args.snakemake, copied,
                      args.cores)
        row = summarize(workdir, args.iterations, seconds, args.comparisons)
        # read again: another lever run of the same dataset may have written its row meanwhile
        rows = json.loads(out_json.read_text()) if out_json.exists() else {}
        rows[name] = row
        out_json.parent.mkdir(parents=True, exist_ok=True)
        out_json.write_text(json.dumps(rows, indent=1))
        print(table_line(name, row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
