import glob
import os
import sys
import time

from snakemake.utils import validate

# The workflow and its jobs import the mcof package from this checkout (in a conda env too).
sys.path.insert(0, workflow.basedir)
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (workflow.basedir, os.environ.get("PYTHONPATH")) if p)
)

from snakemake import __version__ as SNAKEMAKE_VERSION

from mcof import layout as L
from mcof.files import write_text
from mcof.config import check_config, dataset_splits, per_iteration
from mcof.crf import kernel_settings
from mcof.plan import GROUND_TRUTH, Plan, PlanError, RunSettings
from mcof.record import config_sha256
from mcof.steps.dataset import EMBEDDED, dataset_classes
from mcof.steps.protocols import CAM_THRESHOLDS

validate(config, "../schemas/config.schema.yaml")
check_config(config)
CONFIG_SHA256 = config_sha256(config)
"""The settings' fingerprint that every metrics.json records."""

DATASET = config["dataset"]
DATASET_ROOT = L.embedded_dataset() if DATASET["source"] in EMBEDDED else DATASET["root"]
MASK_DIR = (
    L.annotation_masks()
    if DATASET["source"] == "coco"
    else os.path.join(DATASET_ROOT, DATASET["mask_dir"]) if DATASET["mask_dir"] else None
)
SPLITS = dataset_splits(config)
SHARDS = {split: config["shards"].get(split, 1) for split in SPLITS}
EVAL_SPLITS = tuple(s for s in SPLITS if s != "train") if MASK_DIR else ()
PLAN = Plan(
    RunSettings(config["mode"], config["saliency_refine"], config["supervision"]),
    config["comparisons"] if EVAL_SPLITS else {},  # no masks: nothing to compare runs on
    SHARDS,
    eval_splits=EVAL_SPLITS,
    crf_labels=config["crf"]["loop"],
    rw_masks=config["affinity"]["masks"],
)
CAM_SOURCE = L.RW_CAMS if config["affinity"]["cams"] else L.CAMS
"""The CAMs the seeds come from: the classifier's, or spread by the random walk."""
REPORTED = PLAN.reported_split
TORCH_THREADS = config["threads"]
LAST = config["iterations"]
CRF_SETTINGS = kernel_settings(config["crf"])
REPORT_SAMPLES = [] if config["supervision"] == "full" else list(range(config["report_samples"]))
CLASSES = dataset_classes(
    config["dataset"]["source"],
    config["dataset"]["synthetic"]["n_classes"],
    config["dataset"]["classes"],
)


if workflow.is_main_process:
    # newer than every result: see redone_if_inputs_gone (jobs run by Snakemake leave it alone)
    write_text(L.run_started(), f"{time.time_ns()} {os.getpid()}\n")


wildcard_constraints:
    root=r"results(/ablation/[A-Za-z0-9_]+)?",
    k=r"[1-9][0-9]*",
    shard=r"[0-9]+",
    split="|".join(SPLITS),


def reported_split():
    """The split miou.txt reports; a dataset without masks has none."""
    if REPORTED is None:
        raise PlanError(
            "the dataset has no split with masks to evaluate on (dataset.mask_dir, "
            "dataset.val_list, dataset.test_list); ask for the pseudo-labels instead: "
            + L.pseudo_labels(L.MAIN_ROOT, LAST)
        )
    return REPORTED


def shared_files(stage):
    """Every shard of a stage made once for all runs (cams, superpixels, saliency)."""
    return [L.shared(stage, s) for s in range(SHARDS["train"])]


def split_shards(pattern, split):
    """A pattern with {shard} (and other wildcards) expanded over the shards of a split."""
    return [pattern.replace("{shard}", str(s)) for s in range(SHARDS[split])]


def iteration(wc):
    return int(wc.k)


def for_iteration(section, key):
    """Param function: a per-iteration setting (mcof.config.per_iteration) for the wildcard's k."""
    return lambda wc: per_iteration(config[section][key], iteration(wc))


def after_iteration_one(section, key):
    """Param function: a setting about PixelNet's masks, which seed iterations 2 and later only
    (None in iteration 1)."""
    return lambda wc: config[section][key] if iteration(wc) > 1 else None


def prediction_crf(wc):
    """The dense CRF on PixelNet's masks: on the training set when it is in the loop (the masks
    become the next seeds), on val and test when crf.final is set."""
    on = config["crf"]["loop"] if wc.split == "train" else config["crf"]["final"]
    return CRF_SETTINGS if on else None


def classifier_model_if(flag):
    return [L.classifier_model()] if flag else []


def previous_masks(wc):
    return PLAN.artifact(wc.root, iteration(wc) - 1, PLAN.seed_masks(wc.root), wc.shard)


def anchor_seeds(wc):
    """Iteration 1's seeds, when later seeds anchor multi-class objects or keep every class."""
    if config["seeds"]["multi_class_objects"] != "cam" and not config["seeds"]["keep_every_class"]:
        return []
    return PLAN.artifact(wc.root, 1, L.SEEDS, wc.shard)


def regionnet_init(wc):
    """The network whose backbone RegionNet k starts from (regionnet.init_from)."""
    source = config["regionnet"]["init_from"]
    if source == "pixelnet" and iteration(wc) > 1:
        return [PLAN.model(wc.root, iteration(wc) - 1, L.PIXELNET)]
    return [L.classifier_model()] if source != "none" else []


def stage_shards(stage, k=None):
    """Input function: every shard of a stage of the wildcard's run and iteration (or of k)."""
    return lambda wc: PLAN.artifacts(wc.root, iteration(wc) if k is None else k, stage)


def stage_shard(stage, k=None):
    """Input function: the wildcard's shard of a stage of its run and iteration (or of k)."""
    return lambda wc: PLAN.artifact(wc.root, iteration(wc) if k is None else k, stage, wc.shard)


def pixelnet_target(wc):
    return PLAN.pixelnet_target(wc.root, iteration(wc))


def previous_pixelnet(wc):
    """Iteration k-1's PixelNet when later iterations continue from it (pixelnet.init_from_previous)."""
    k = iteration(wc)
    if (
        not config["pixelnet"]["init_from_previous"]
        or k == 1
        or pixelnet_target(wc).kind == GROUND_TRUTH
    ):
        return []
    return [PLAN.model(wc.root, k - 1, L.PIXELNET)]


def pixelnet_labels(wc):
    target = pixelnet_target(wc)
    if target.kind == GROUND_TRUTH:
        return []
    return PLAN.artifacts(wc.root, target.iteration, target.stage)


def scored_index(wc):
    """The index of the split the wildcard's stage covers."""
    return L.index_file(L.split_of(wc.stage))


def scored_labels(wc):
    """Every shard of the wildcard's stage, run and iteration (evaluate_stage)."""
    return split_shards(L.artifact(wc.root, wc.k, wc.stage), L.split_of(wc.stage))


def scored_superpixels(wc):
    """The superpixels, when the wildcard's stage labels superpixels."""
    return shared_files(L.SUPERPIXELS) if wc.stage in L.REGION_STAGES else []


def iteration_stage_metrics(wc):
    k = iteration(wc)
    return {stage: PLAN.stage_metrics(wc.root, k, stage) for stage in PLAN.scored(wc.root, k)}


def reported_pngs(wc):
    split = reported_split()
    return L.prediction_pngs(PLAN.home(wc.root, iteration(wc), L.mask_stage(split)), wc.k, split)


def run_metrics(root):
    return [L.iteration_metrics(root, k) for k in range(1, PLAN.last_iteration(root, LAST) + 1)]


def comparison_metrics(wc):
    return {root: run_metrics(root) for root in PLAN.runs}


def report_runs():
    """The runs the report draws: the main one, and the comparison runs when
    report_comparisons is on (decided by the config alone, never by what is on disk)."""
    runs = {"this run": run_metrics(L.MAIN_ROOT)}
    if config["report_comparisons"]:
        for root in PLAN.runs:
            if root != L.MAIN_ROOT:
                runs[root.rsplit("/", 1)[-1]] = run_metrics(root)
    return runs


def full_supervision_metrics():
    """The fully supervised run's metrics.json, when the report includes it (for the
    vanishing-class flags)."""
    if not config["report_comparisons"]:
        return []
    return [
        run_metrics(root)[0]
        for root, settings in PLAN.runs.items()
        if settings.supervision == "full"
    ][:1]


def sample_inputs(wc):
    main = L.MAIN_ROOT
    return {
        "index": L.index_file("train"),
        "cams": shared_files(L.CAMS),
        "superpixels": shared_files(L.SUPERPIXELS),
        "saliency": shared_files(L.SALIENCY),
        "seeds": PLAN.artifacts(main, 1, L.SEEDS),
        "regions": PLAN.artifacts(main, 1, L.REGIONS),
        "refined": (PLAN.artifacts(main, 1, L.REFINED) if config["saliency_refine"] else []),
        "masks": [
            path for k in range(1, LAST + 1) for path in PLAN.artifacts(main, k, L.TRAIN_MASKS)
        ],
    }


def run_artifacts(root=L.MAIN_ROOT):
    """Every artifact of a run up to the last iteration. Snakemake checks a missing output
    only for the jobs a target names, so the default target names them all: a deleted
    artifact is rebuilt, with what depends on it and nothing else."""
    weak = PLAN.settings(root).supervision == "weak"
    files = shared_files(L.SUPERPIXELS)
    if weak:
        files += [
            L.classifier_model(),
            *shared_files(L.CAMS),
            *shared_files(L.SALIENCY),
        ]
    for k in range(1, PLAN.last_iteration(root, LAST) + 1):
        stages = PLAN.stages(root, k)
        for stage in stages:
            files += PLAN.artifacts(root, k, stage)
        for stage in PLAN.scored(root, k):
            files.append(PLAN.stage_metrics(root, k, stage))
        for network, stage in L.MODEL_STAGES.items():
            if stage in stages:
                files.append(PLAN.model(root, k, network))
        if REPORTED is not None:  # no masks to evaluate on: the stage metrics say so
            files.append(L.iteration_metrics(root, k))
    return files


def dataset_inputs(wc):
    """The files an index is made from: the embedded dataset, or the user's lists and labels
    (declared, so that a changed file reruns what depends on it)."""
    if DATASET["source"] in EMBEDDED:
        return [L.embedded_dataset()]
    files = [dataset_file(DATASET[f"{wc.split}_list"])]
    if wc.split == "train" and DATASET["labels"]:
        files.append(dataset_file(DATASET["labels"]))
    return [f for f in files if f]


def coco_splits():
    """Each COCO split's image folder, instances file and (optional) list of ids to keep."""
    coco = DATASET["coco"]
    return {
        split: {
            "images": coco[f"{split}_images"],
            "annotations": dataset_file(coco[f"{split}_annotations"]),
            "list_path": DATASET[f"{split}_list"],
        }
        for split in SPLITS
    }


def coco_inputs(wc):
    """The instances files and lists a COCO index is made from (declared, so that a changed
    file reruns what depends on it; read by the index job, never while planning)."""
    return [
        path
        for spec in coco_splits().values()
        for path in (spec["annotations"], dataset_file(spec["list_path"]))
        if path
    ]


def dataset_file(path):
    """A dataset path from the config: absolute, or under the dataset's root."""
    if not path:
        return None
    return path if os.path.isabs(path) else os.path.join(DATASET_ROOT, path)


def pseudo_label_targets():
    """The pseudo-labels the default target makes: PixelNet's training-set masks of the main
    run's last iteration and, with export.refined, iteration 1's refined regions."""
    targets = [L.pseudo_labels(L.MAIN_ROOT, PLAN.last_iteration(L.MAIN_ROOT, LAST))]
    if config["export"]["refined"]:
        targets.append(L.refined_labels(L.MAIN_ROOT))
    return targets


def mem_per_attempt(mb):
    """mem_mb of a job that grows with each attempt: a job that ran out of memory gets twice as
    much when a profile retries it (profiles/slurm: retries: 1)."""
    return lambda wc, attempt: mb * attempt


def weights_file(section):
    """The weights file of a network when `weights:` is a path: a declared input, so that a
    storage plugin stages it and a changed file reruns the training and what follows it."""
    weights = config[section]["weights"]
    return [] if weights in ("none", "imagenet") else [weights]


def iteration_histories(wc):
    """The history CSVs of the networks an iteration trains, for the devices its metrics.json
    records."""
    k = iteration(wc)
    stages = PLAN.stages(wc.root, k)
    return [
        L.history(PLAN.home(wc.root, k, network), k, network)
        for network, stage in L.MODEL_STAGES.items()
        if stage in stages
    ]


def external_saliency_maps():
    """The maps of saliency.method external, declared as inputs, so that a storage plugin
    stages them and a changed map reruns the saliency shards. The directory is the user's
    input, like the dataset's lists: it is listed while the Snakefile is parsed, as a sample
    sheet is read; nothing the workflow writes is."""
    if config["saliency"]["method"] != "external":
        return []
    return sorted(glob.glob(os.path.join(config["saliency"]["external_dir"], "*.png")))


WEAK = config["supervision"] == "weak"
"""The main run is weakly supervised: it has CAMs (and their threshold sweep) and a classifier."""


def training_histories():
    """Every training of the main run, for the report's training curves, as [network,
    iteration (None for the shared ones), history CSV]: the classifier (and the affinity net),
    then RegionNet and PixelNet of every iteration."""
    root = L.MAIN_ROOT
    found = [[L.CLASSIFIER, None, L.classifier_history()]] if WEAK else []
    if WEAK and (config["affinity"]["cams"] or config["affinity"]["masks"]):
        found.append([L.AFFINITY, None, L.affinity_history()])
    for k in range(1, PLAN.last_iteration(root, LAST) + 1):
        stages = PLAN.stages(root, k)
        for network, stage in L.MODEL_STAGES.items():
            if stage in stages:
                found.append([network, k, L.history(PLAN.home(root, k, network), k, network)])
    return found


def redone_if_inputs_gone(*inputs):
    """Input function for the rules whose outputs report numbers. It gives L.run_started(),
    newer than any result, when one of the job's inputs is gone; otherwise the same file marked
    ancient, which never triggers anything.

    Snakemake checks for missing files only among its targets' own outputs
    (snakemake/snakemake#1978): after an input of a metrics file was deleted, or removed with a
    job that failed, a narrow target such as results/iter1/seeds_metrics.json would stand on
    files that are gone ("Nothing to be done"). With this input the job is redone, so Snakemake
    first makes the missing input again, and then whatever depends on it. The job's set of
    input files is the same in both cases, so the check itself never causes a rerun.

    inputs: the rule's own inputs, as paths, lists, or functions of the wildcards returning
    paths, lists or dicts of them.
    """

    def paths(item, wc):
        value = item(wc) if callable(item) else item
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return [p for v in value.values() for p in paths(v, wc)]
        return [p for v in value for p in paths(v, wc)]

    def started(wc):
        gone = any(not os.path.exists(p) for item in inputs for p in paths(item, wc))
        return L.run_started() if gone else ancient(L.run_started())

    return started
