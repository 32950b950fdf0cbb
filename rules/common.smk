import os
import sys

from snakemake.utils import validate

# The workflow and its jobs import the mcof package from this checkout (in a conda env too).
sys.path.insert(0, workflow.basedir)
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (workflow.basedir, os.environ.get("PYTHONPATH")) if p)
)

from mcof.config import check_config
from mcof.plan import MODEL_STAGES, Plan, RunSettings

validate(config, "../schemas/config.schema.yaml")
check_config(config)

PLAN = Plan(
    RunSettings(config["mode"], config["saliency_refine"], config["supervision"]),
    config["comparisons"],
)
SHARDS = {"train": config["shards"]["train"], "val": config["shards"]["val"]}
TORCH_THREADS = config["threads"]
LAST = config["iterations"]
CRF = {k: v for k, v in config["crf"].items() if k != "enabled"} if config["crf"]["enabled"] else None
REPORT_SAMPLES = [] if config["supervision"] == "full" else list(range(config["report_samples"]))


wildcard_constraints:
    root=r"results(/ablation/[A-Za-z0-9_]+)?",
    k=r"[1-9][0-9]*",
    shard=r"[0-9]+",
    split=r"train|val",


def dataset_root():
    if config["dataset"]["source"] == "synthetic":
        return "results/dataset/VOC2012"
    return config["dataset"]["voc_root"]


def index_file(split):
    return f"results/dataset/{split}.json"


def shard_files(pattern, split="train", **fmt):
    """All shard files of a per-shard artifact, e.g. shard_files('results/cams/shard{shard}.h5')."""
    return [pattern.format(shard=s, **fmt) for s in range(SHARDS[split])]


def home(wildcards, stage, k=None):
    """Run directory that produces `stage` of iteration k (default: the wildcard's) for this run."""
    return PLAN.home(wildcards.root, int(wildcards.k) if k is None else k, stage)


def stage_split(stage):
    return "val" if stage == "val_masks" else "train"


def classifier_model_if(flag):
    return ["results/classifier/model.pt"] if flag else []


def previous_masks(wc):
    k = int(wc.k) - 1
    return f"{home(wc, 'train_masks', k)}/iter{k}/train_masks/shard{wc.shard}.h5"


def anchor_seeds(wc):
    if config["seeds"]["multi_class_objects"] != "cam":
        return []
    return f"{home(wc, 'seeds', 1)}/iter1/seeds/shard{wc.shard}.h5"


def regionnet_seeds(wc):
    return shard_files(f"{home(wc, 'seeds')}/iter{wc.k}/seeds/shard{{shard}}.h5")


def pixelnet_target(wc):
    return PLAN.pixelnet_target(wc.root, int(wc.k))


def previous_pixelnet(wc):
    """Iteration k-1's PixelNet when later iterations continue from it (pixelnet.init_from_previous)."""
    k = int(wc.k)
    if not config["pixelnet"]["init_from_previous"] or k == 1 or pixelnet_target(wc).kind == "ground_truth":
        return []
    return [f"{home(wc, 'pixelnet', k - 1)}/iter{k - 1}/pixelnet.pt"]


def pixelnet_labels(wc):
    target = pixelnet_target(wc)
    if target.kind == "ground_truth":
        return []
    where = home(wc, target.stage, target.iteration)
    return shard_files(f"{where}/iter{target.iteration}/{target.stage}/shard{{shard}}.h5")


def iteration_stage_metrics(wc):
    k = int(wc.k)
    return {
        stage: f"{home(wc, stage)}/iter{k}/{stage}_metrics.json"
        for stage in PLAN.stages(wc.root, k)
    }


def val_pngs(wc):
    return f"{home(wc, 'val_masks')}/iter{wc.k}/val_pred"


def comparison_metrics(wc):
    return {root: run_metrics(root) for root in PLAN.runs}


def run_metrics(root):
    last = 1 if PLAN.settings(root).supervision == "full" else LAST
    return [f"{root}/iter{k}/metrics.json" for k in range(1, last + 1)]


def curve_runs(wc):
    """The main run, plus the comparison runs once results/comparison.json says they ran."""
    runs = {"this run": run_metrics("results")}
    if os.path.exists("results/comparison.json"):
        for root in PLAN.runs:
            if root != "results":
                runs[root.rsplit("/", 1)[-1]] = run_metrics(root)
    return runs


def sample_inputs(wc):
    where = lambda stage, k=1: PLAN.home("results", k, stage)
    refined = config["saliency_refine"]
    return {
        "index": index_file("train"),
        "cams": shard_files("results/cams/shard{shard}.h5"),
        "superpixels": shard_files("results/superpixels/shard{shard}.h5"),
        "saliency": shard_files("results/saliency/shard{shard}.h5"),
        "seeds": shard_files(f"{where('seeds')}/iter1/seeds/shard{{shard}}.h5"),
        "regions": shard_files(f"{where('regions')}/iter1/regions/shard{{shard}}.h5"),
        "refined": shard_files(f"{where('refined')}/iter1/refined/shard{{shard}}.h5") if refined else [],
        "masks": [
            path
            for k in range(1, LAST + 1)
            for path in shard_files(f"{where('train_masks', k)}/iter{k}/train_masks/shard{{shard}}.h5")
        ],
    }


def run_artifacts(root="results"):
    """Every artifact of a run up to the last iteration. Snakemake checks a missing output
    only for the jobs a target names, so the default target names them all: a deleted
    artifact is rebuilt, with what depends on it and nothing else."""
    weak = PLAN.settings(root).supervision == "weak"
    files = shard_files("results/superpixels/shard{shard}.h5")
    if weak:
        files += ["results/classifier/model.pt", *shard_files("results/cams/shard{shard}.h5"),
                  *shard_files("results/saliency/shard{shard}.h5")]
    last = LAST if weak else 1
    for k in range(1, last + 1):
        stages = PLAN.stages(root, k)
        for stage in stages:
            where = PLAN.home(root, k, stage)
            files += shard_files(f"{where}/iter{k}/{stage}/shard{{shard}}.h5", stage_split(stage))
            files.append(f"{where}/iter{k}/{stage}_metrics.json")
        for model, stage in MODEL_STAGES.items():
            if stage in stages:
                files.append(f"{PLAN.home(root, k, model)}/iter{k}/{model}.pt")
        files.append(f"{root}/iter{k}/metrics.json")
    return files
