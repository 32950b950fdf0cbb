"""Checks of the workflow configuration that a JSON schema cannot express.

The schema (schemas/config.schema.yaml) checks keys and types; these check how keys fit
together and that the paths they name exist. Each error names the key.
"""

from __future__ import annotations

from pathlib import Path

from mcof.models.deeplab_names import BACKBONE_OF

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


def check_config(config: dict) -> None:
    """Raise ConfigError for the first inconsistent or dangling key."""
    dataset = config["dataset"]
    if dataset["source"] == "voc":
        root = dataset["voc_root"]
        if not root:
            raise ConfigError("dataset.voc_root", "must be set when dataset.source is voc")
        if not Path(root).is_dir():
            raise ConfigError("dataset.voc_root", f"directory not found: {root}")
        for key in ("train_list", "val_list"):
            path = Path(dataset[key])
            path = path if path.is_absolute() else Path(root) / path
            if not path.is_file():
                raise ConfigError(f"dataset.{key}", f"image list not found: {path}")
        if not (Path(root) / dataset["mask_dir"]).is_dir():
            raise ConfigError("dataset.mask_dir", f"directory not found: {Path(root) / dataset['mask_dir']}")
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
    if regionnet["init_from_classifier"] and regionnet["backbone"] != classifier["backbone"]:
        raise ConfigError("regionnet.init_from_classifier",
                          f"regionnet backbone {regionnet['backbone']} differs from the classifier's "
                          f"{classifier['backbone']}")
    if pixelnet["init_from_classifier"] and BACKBONE_OF[pixelnet["arch"]] != classifier["backbone"]:
        raise ConfigError("pixelnet.init_from_classifier",
                          f"pixelnet {pixelnet['arch']} uses backbone {BACKBONE_OF[pixelnet['arch']]}, "
                          f"the classifier {classifier['backbone']}")
    classes = dataset["classes"]
    if classes and dataset["source"] == "synthetic" and len(classes) != dataset["synthetic"]["n_classes"] + 1:
        raise ConfigError("dataset.classes", "must list background and the "
                          f"{dataset['synthetic']['n_classes']} synthetic classes")
