import os
import sys

from snakemake.utils import validate

# The workflow and its jobs import the mcof package from this checkout (in a conda env too).
sys.path.insert(0, workflow.basedir)
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (workflow.basedir, os.environ.get("PYTHONPATH")) if p
)

from mcof.config import check_config
from mcof.plan import Plan, RunSettings

validate(config, "../schemas/config.schema.yaml")
check_config(config)

PLAN = Plan(
    RunSettings(config["mode"], config["saliency_refine"], config["supervision"]),
    config["comparisons"],
)
SHARDS = {"train": config["shards"]["train"], "val": config["shards"]["val"]}
TORCH_THREADS = config["threads"]


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
