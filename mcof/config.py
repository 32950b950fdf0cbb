"""Checks of the workflow configuration that a JSON schema cannot express.

The schema (schemas/config.schema.yaml) checks keys and types; these check how keys fit
together and that the paths they name exist. Each error names the key.
"""

from __future__ import annotations

from pathlib import Path

from mcof.models import BACKBONE_OF

STRIDES = {"tiny": (4, 8), "vgg16": (8, 16), "resnet101": (8, 16)}


class ConfigError(ValueError):
    def __init__(self, key: str, message: str):
        super().__init__(f"config key '{key}': {message}")
        self.key = key


def _check_weights(key: str, backbone: str, weights: str) -> None:
    if weights in ("none", "imagenet"):
        if weights == "imagenet" and backbone == "tiny":
            raise ConfigError(key, "backbone tiny has no ImageNet weights; use none or a file path")
        return
    if not Path(weights).is_file():
        raise ConfigError(key, f"weights file not found: {weights}")


EMBEDDED_SOURCES = ("synthetic", "photos")


def dataset_splits(config: dict) -> tuple[str, ...]:
    """The splits a dataset has: train, then val and test where their lists are set (an
    embedded dataset has a test split unless n_test is 0; a COCO one where its annotation file
    is set)."""
    dataset = config["dataset"]
    splits = ["train"]
    for split in ("val", "test"):
        if dataset["source"] == "coco":
            if dataset["coco"][f"{split}_annotations"]:
                splits.append(split)
            continue
        if not dataset[f"{split}_list"]:
            continue
        if dataset["source"] in EMBEDDED_SOURCES and dataset[dataset["source"]][f"n_{split}"] == 0:
            continue
        splits.append(split)
    return tuple(splits)


def _under_root(root: str, path: str) -> Path:
    return Path(path) if Path(path).is_absolute() else Path(root) / path


def _check_coco(dataset: dict) -> None:
    """COCO: each split's image folder and instances file exist (only that: an 80k-image
    annotation file is read by the index job, never while the workflow is planned)."""
    root, coco = dataset["root"], dataset["coco"]
    if dataset["labels"]:
        raise ConfigError("dataset.labels", "COCO's image labels come from its annotations; "
                          "set it to null")
    if not coco["train_annotations"]:
        raise ConfigError("dataset.coco.train_annotations", "must be set when dataset.source is coco")
    for split in ("train", "val", "test"):
        annotations, images = coco[f"{split}_annotations"], coco[f"{split}_images"]
        if not annotations:
            if dataset[f"{split}_list"] and split != "train":
                raise ConfigError(f"dataset.{split}_list", f"selects {split} images, but "
                                  f"dataset.coco.{split}_annotations is null")
            continue
        if not _under_root(root, annotations).is_file():
            raise ConfigError(f"dataset.coco.{split}_annotations",
                              f"annotation file not found: {_under_root(root, annotations)}")
        if not images:
            raise ConfigError(f"dataset.coco.{split}_images", f"must be set when "
                              f"dataset.coco.{split}_annotations is")
        if not _under_root(root, images).is_dir():
            raise ConfigError(f"dataset.coco.{split}_images",
                              f"directory not found: {_under_root(root, images)}")
        if dataset[f"{split}_list"] and not _under_root(root, dataset[f"{split}_list"]).is_file():
            raise ConfigError(f"dataset.{split}_list",
                              f"image list not found: {_under_root(root, dataset[f'{split}_list'])}")


def has_masks(dataset: dict) -> bool:
    """Whether the dataset has ground-truth masks (for evaluation and full supervision)."""
    return dataset["source"] in (*EMBEDDED_SOURCES, "coco") or bool(dataset["mask_dir"])


def _check_dataset(dataset: dict) -> None:
    if dataset["source"] in EMBEDDED_SOURCES:
        if dataset["labels"]:
            raise ConfigError("dataset.labels", f"the {dataset['source']} dataset labels itself; "
                              "a label file is for dataset.source voc or folder")
        return
    root = dataset["root"]
    if not root:
        raise ConfigError("dataset.root", f"must be set when dataset.source is {dataset['source']}")
    if not Path(root).is_dir():
        raise ConfigError("dataset.root", f"directory not found: {root}")
    if dataset["source"] == "coco":
        _check_coco(dataset)
        return
    if not (Path(root) / dataset["image_dir"]).is_dir():
        raise ConfigError("dataset.image_dir", f"directory not found: {Path(root) / dataset['image_dir']}")
    if dataset["labels"] and not _under_root(root, dataset["labels"]).is_file():
        raise ConfigError("dataset.labels", f"label file not found: {_under_root(root, dataset['labels'])}")
    if not dataset["labels"] and not dataset["mask_dir"]:
        raise ConfigError("dataset.labels", "image labels come from a label file or from the "
                          "masks: set dataset.labels or dataset.mask_dir")
    if not dataset["train_list"] and not dataset["labels"]:
        raise ConfigError("dataset.train_list", "must be set unless a label file lists the images")
    for key in ("train_list", "val_list", "test_list"):
        if dataset[key] and not _under_root(root, dataset[key]).is_file():
            raise ConfigError(f"dataset.{key}", f"image list not found: {_under_root(root, dataset[key])}")
    if dataset["mask_dir"] and not (Path(root) / dataset["mask_dir"]).is_dir():
        raise ConfigError("dataset.mask_dir", f"directory not found: {Path(root) / dataset['mask_dir']}")


def check_config(config: dict) -> None:
    """Raise ConfigError for the first inconsistent or dangling key."""
    _check_dataset(config["dataset"])
    saliency = config["saliency"]
    if saliency["method"] == "external":
        if not saliency["external_dir"]:
            raise ConfigError("saliency.external_dir", "must be set when saliency.method is external")
        if not Path(saliency["external_dir"]).is_dir():
            raise ConfigError("saliency.external_dir", f"directory not found: {saliency['external_dir']}")
    classifier = config["classifier"]
    if classifier["output_stride"] not in STRIDES[classifier["backbone"]]:
        raise ConfigError("classifier.output_stride",
                          f"backbone {classifier['backbone']} supports {STRIDES[classifier['backbone']]}")
    _check_weights("classifier.weights", classifier["backbone"], classifier["weights"])
    regionnet, pixelnet = config["regionnet"], config["pixelnet"]
    _check_weights("regionnet.weights", regionnet["backbone"], regionnet["weights"])
    _check_weights("pixelnet.weights", BACKBONE_OF[pixelnet["arch"]], pixelnet["weights"])
    if regionnet["init_from"] == "classifier" and regionnet["backbone"] != classifier["backbone"]:
        raise ConfigError("regionnet.init_from",
                          f"regionnet backbone {regionnet['backbone']} differs from the classifier's "
                          f"{classifier['backbone']}")
    if regionnet["init_from"] == "pixelnet" and regionnet["backbone"] != BACKBONE_OF[pixelnet["arch"]]:
        raise ConfigError("regionnet.init_from",
                          f"regionnet backbone {regionnet['backbone']} differs from PixelNet's "
                          f"({pixelnet['arch']}: {BACKBONE_OF[pixelnet['arch']]})")
    if pixelnet["init_from_classifier"] and BACKBONE_OF[pixelnet["arch"]] != classifier["backbone"]:
        raise ConfigError("pixelnet.init_from_classifier",
                          f"pixelnet {pixelnet['arch']} uses backbone {BACKBONE_OF[pixelnet['arch']]}, "
                          f"the classifier {classifier['backbone']}")
    dataset = config["dataset"]
    classes = dataset["classes"]
    if classes and dataset["source"] == "synthetic" and len(classes) != dataset["synthetic"]["n_classes"] + 1:
        raise ConfigError("dataset.classes", "must list background and the "
                          f"{dataset['synthetic']['n_classes']} synthetic classes")
    affinity = config["affinity"]
    if affinity["init_from_classifier"] and affinity["backbone"] != classifier["backbone"]:
        raise ConfigError("affinity.init_from_classifier",
                          f"affinity backbone {affinity['backbone']} differs from the classifier's "
                          f"{classifier['backbone']}")
    if config["crf"]["backend"] == "pydensecrf" and (config["crf"]["loop"] or config["crf"]["final"]):
        try:
            import pydensecrf.densecrf  # noqa: F401
        except ImportError:
            raise ConfigError("crf.backend", "pydensecrf needs pydensecrf2 (the [crf] extra, "
                              "compiled at install); use torch") from None
    if classes and dataset["source"] == "photos" and len(classes) != 6:
        raise ConfigError("dataset.classes", "must list background and the 5 photo classes")
    # (comparison runs are left out on a dataset without masks: there is nothing to compare on)
    if not has_masks(dataset) and config["supervision"] == "full":
        raise ConfigError("supervision", "full supervision trains on the masks, and "
                          "dataset.mask_dir is null")
    if config["export"]["refined"] and (not config["saliency_refine"]
                                        or config["supervision"] == "full"):
        raise ConfigError("export.refined", "there are refined regions only in a weak run with "
                          "saliency_refine: true")


def per_iteration(value, k: int):
    """A setting that may change with the iteration: a list gives iteration k its (k-1)-th entry,
    the last entry serving every later iteration; anything else serves all iterations."""
    if isinstance(value, list):
        return value[min(k, len(value)) - 1]
    return value
