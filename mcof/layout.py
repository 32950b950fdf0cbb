"""The one place that names every stage and says where each artifact lives.

Rules call these functions with wildcard strings and get patterns
(``artifact("{root}", "{k}", SEEDS)`` is ``"{root}/iter{k}/seeds/shard{shard}.h5"``); the plan and
the input functions call them with values and get paths (``artifact("results", 2, SEEDS, 0)`` is
``"results/iter2/seeds/shard0.h5"``). Nothing else spells a path of an artifact.

Layout under the main run directory ``results/`` (a comparison run's directory
``results/ablation/<name>/`` holds the same per-iteration layout)::

    dataset/VOC2012/                     the embedded dataset, generated (embedded_dataset)
    dataset/{split}.json                 index of a split        (index_file)
    classifier/model.pt                  the CAM classifier      (classifier_model)
    classifier/history.csv               its per-epoch record    (classifier_history)
    cam_metrics.json                     CAM mIoU over background thresholds (cam_metrics)
    {cams,superpixels,saliency}/shard{s}.h5                      (shared)
    iter{k}/{stage}/shard{s}.h5          per-iteration stages    (artifact)
    iter{k}/{regionnet,pixelnet}.pt      the iteration's models  (model)
    iter{k}/{network}_history.csv        their per-epoch training record (history)
    iter{k}/{stage}_metrics.json         a stage's scores        (stage_metrics)
    iter{k}/metrics.json, miou.txt       the iteration's summary (iteration_metrics, miou)
    iter{k}/{split}_pred/<id>.png        PixelNet's masks as PNGs (prediction_pngs)
    iter{k}/pseudo_labels/<id>.png       PixelNet's training-set masks as PNGs (pseudo_labels)
    iter1/refined_labels/<id>.png        the refined regions as PNGs (refined_labels)
    dataset/masks/<id>.png               COCO's masks, rasterised from its annotations
                                         (annotation_masks)
    logs/run_started                     when Snakemake last started (run_started)
"""

from __future__ import annotations

MAIN_ROOT = "results"
ABLATION_ROOT = f"{MAIN_ROOT}/ablation"

# Stages: per-image artifacts, in pipeline order. The name is also the `stage` attribute of the
# HDF5 files, so a reader can tell which stage wrote a file.
CAMS = "cams"
RW_CAMS = "rw_cams"
SUPERPIXELS = "superpixels"
SALIENCY = "saliency"
SEEDS = "seeds"
REGIONS = "regions"
REFINED = "refined"
CRF_LABELS = "crf_labels"
TRAIN_MASKS = "train_masks"
VAL_MASKS = "val_masks"
TEST_MASKS = "test_masks"
RW_MASKS = "rw_masks"

SHARED_STAGES = (CAMS, RW_CAMS, SUPERPIXELS, SALIENCY)
"""Made once from the dataset and the classifier, shared by every run and iteration."""
REGION_STAGES = (SEEDS, REGIONS, REFINED)
"""Superpixel labels uint8 [S]: 0 background, c class c, 255 unlabelled."""
MASK_STAGES = (TRAIN_MASKS, VAL_MASKS, TEST_MASKS)
"""PixelNet's pixel masks uint8 [H, W] with their confidence, one stage per split."""
PIXEL_STAGES = (CRF_LABELS, *MASK_STAGES, RW_MASKS)
"""Stages of pixel masks (mask uint8 [H, W], confidence [H, W]): PixelNet's, the regions PixelNet
trains on after the dense CRF, and PixelNet's training-set masks after the random walk."""
ITERATION_STAGES = REGION_STAGES + PIXEL_STAGES
TARGETS = "targets"
"""Not an artifact: what PixelNet of an iteration trains on, scored like the stages."""

# Networks: model files. An iteration's RegionNet makes its regions, its PixelNet its masks.
CLASSIFIER = "classifier"
AFFINITY = "affinity"
REGIONNET = "regionnet"
PIXELNET = "pixelnet"
MODEL_STAGES = {REGIONNET: REGIONS, PIXELNET: TRAIN_MASKS}

SPLITS = ("train", "val", "test")
"""train: the weak labels' images; val: for choosing settings; test: for the reported figures."""


def mask_stage(split: str) -> str:
    """PixelNet's masks of a split."""
    return f"{split}_masks"


def split_of(stage: str) -> str:
    """The dataset split a stage's artifact covers."""
    return stage[: -len("_masks")] if stage in MASK_STAGES else "train"


def embedded_dataset() -> str:
    """The synthetic or photos dataset the workflow generates, laid out as a VOC 2012 tree."""
    return f"{MAIN_ROOT}/dataset/VOC2012"


def index_file(split: str) -> str:
    return f"{MAIN_ROOT}/dataset/{split}.json"


def annotation_masks() -> str:
    """Ground-truth masks rasterised from a dataset's annotations (COCO), for evaluation."""
    return f"{MAIN_ROOT}/dataset/masks"


def classifier_model() -> str:
    return f"{MAIN_ROOT}/{CLASSIFIER}/model.pt"


def classifier_checkpoints() -> str:
    return f"{MAIN_ROOT}/{CLASSIFIER}/checkpoints"


def classifier_history() -> str:
    return f"{MAIN_ROOT}/{CLASSIFIER}/history.csv"


def affinity_model() -> str:
    return f"{MAIN_ROOT}/{AFFINITY}/model.pt"


def affinity_checkpoints() -> str:
    return f"{MAIN_ROOT}/{AFFINITY}/checkpoints"


def affinity_history() -> str:
    return f"{MAIN_ROOT}/{AFFINITY}/history.csv"


def cam_metrics() -> str:
    """The classifier's CAMs scored on the training set over a sweep of background thresholds."""
    return f"{MAIN_ROOT}/cam_metrics.json"


def shared(stage: str, shard="{shard}") -> str:
    """A shard of a stage made once for all runs (cams, superpixels, saliency)."""
    if stage not in SHARED_STAGES:
        raise ValueError(f"{stage!r} is not a shared stage ({', '.join(SHARED_STAGES)})")
    return f"{MAIN_ROOT}/{stage}/shard{shard}.h5"


def iteration_dir(root="{root}", k="{k}") -> str:
    return f"{root}/iter{k}"


def artifact(root="{root}", k="{k}", stage="{stage}", shard="{shard}") -> str:
    """A shard of one stage of one iteration of one run."""
    return f"{iteration_dir(root, k)}/{stage}/shard{shard}.h5"


def model(root="{root}", k="{k}", network="{network}") -> str:
    return f"{iteration_dir(root, k)}/{network}.pt"


def checkpoints(root="{root}", k="{k}", network="{network}") -> str:
    return f"{iteration_dir(root, k)}/checkpoints/{network}"


def history(root="{root}", k="{k}", network="{network}") -> str:
    """A training's per-epoch loss, accuracy and learning rate (CSV), beside its model file."""
    return f"{iteration_dir(root, k)}/{network}_history.csv"


def stage_metrics(root="{root}", k="{k}", stage="{stage}") -> str:
    return f"{iteration_dir(root, k)}/{stage}_metrics.json"


def iteration_metrics(root="{root}", k="{k}") -> str:
    return f"{iteration_dir(root, k)}/metrics.json"


def miou(root="{root}", k="{k}") -> str:
    return f"{iteration_dir(root, k)}/miou.txt"


def run_started() -> str:
    """Rewritten each time Snakemake starts (rules/common.smk, redone_if_inputs_gone)."""
    return f"{MAIN_ROOT}/logs/run_started"


def prediction_pngs(root="{root}", k="{k}", split="{split}") -> str:
    """PixelNet's masks of an evaluation split as VOC-palette PNGs."""
    return f"{iteration_dir(root, k)}/{split}_pred"


def pseudo_labels(root="{root}", k="{k}") -> str:
    """PixelNet's masks of every training image of iteration k as VOC-palette PNGs: the
    pseudo-labels another segmentation framework trains on."""
    return f"{iteration_dir(root, k)}/pseudo_labels"


def refined_labels(root="{root}") -> str:
    """Iteration 1's refined regions painted on the superpixels, as VOC-palette PNGs."""
    return f"{iteration_dir(root, 1)}/refined_labels"
