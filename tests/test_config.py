import copy
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from mcof.config import ConfigError, check_config, dataset_splits

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = str(ROOT / "schemas" / "config.schema.yaml")


@pytest.fixture
def config():
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def test_default_config_is_valid(config):
    validate(copy.deepcopy(config), SCHEMA)
    check_config(config)


def test_unknown_key_is_named(config):
    config["regionnet"]["epoch"] = 3
    with pytest.raises(WorkflowError, match="'epoch' was unexpected"):
        validate(config, SCHEMA)


def test_wrong_type_is_named(config):
    config["shards"]["train"] = "two"
    with pytest.raises(WorkflowError, match="'two' is not of type 'integer'"):
        validate(config, SCHEMA)


def test_missing_dataset_root_is_named(config, tmp_path):
    config["dataset"]["source"] = "voc"
    with pytest.raises(ConfigError, match="'dataset.root': must be set"):
        check_config(config)
    config["dataset"]["root"] = str(tmp_path / "VOC2012")
    with pytest.raises(ConfigError, match="'dataset.root': directory not found"):
        check_config(config)


def test_dataset_keys_that_do_not_fit(config, tmp_path):
    (tmp_path / "JPEGImages").mkdir()
    folder = copy.deepcopy(config)
    folder["dataset"].update(source="folder", root=str(tmp_path), mask_dir=None, labels=None)
    folder["comparisons"] = {"direct": {"mode": "direct"}}
    with pytest.raises(ConfigError, match="'dataset.labels': image labels come from a label file"):
        check_config(folder)
    folder["dataset"]["labels"] = "labels.csv"
    with pytest.raises(ConfigError, match="'dataset.labels': label file not found"):
        check_config(folder)
    (tmp_path / "labels.csv").write_text("a,alpha\n")
    folder["dataset"].update(train_list=None, val_list=None, test_list=None)
    check_config(folder)
    folder["comparisons"]["upper"] = {"supervision": "full"}
    check_config(folder)  # comparison runs are left out without masks (rules/common.smk)
    folder["supervision"] = "full"
    with pytest.raises(ConfigError, match="'supervision': full supervision trains on the masks"):
        check_config(folder)
    embedded = copy.deepcopy(config)
    embedded["dataset"]["labels"] = "labels.csv"
    with pytest.raises(ConfigError, match="'dataset.labels': the synthetic dataset labels itself"):
        check_config(embedded)


def test_splits_follow_the_lists(config):
    assert dataset_splits(config) == ("train", "val", "test")
    config["dataset"]["synthetic"]["n_test"] = 0
    assert dataset_splits(config) == ("train", "val")
    config["dataset"].update(source="voc", test_list=None, val_list="val.txt")
    assert dataset_splits(config) == ("train", "val")


def test_cross_key_checks(config, tmp_path):
    bad = copy.deepcopy(config)
    bad["classifier"]["output_stride"] = 16
    with pytest.raises(ConfigError, match="classifier.output_stride"):
        check_config(bad)
    bad = copy.deepcopy(config)
    bad["pixelnet"]["arch"] = "deeplab_largefov"
    with pytest.raises(ConfigError, match="regionnet.init_from.*PixelNet's"):
        check_config(bad)  # RegionNet k starts from PixelNet k-1's backbone: tiny vs vgg16
    bad["regionnet"]["init_from"] = "classifier"
    with pytest.raises(ConfigError, match="pixelnet.init_from_classifier"):
        check_config(bad)
    bad = copy.deepcopy(config)
    bad["regionnet"]["weights"] = str(tmp_path / "w.pt")
    with pytest.raises(ConfigError, match="regionnet.weights.*not found"):
        check_config(bad)
    bad = copy.deepcopy(config)
    bad["saliency"]["method"] = "external"
    with pytest.raises(ConfigError, match="saliency.external_dir"):
        check_config(bad)


def pins(lines):
    return {re.split("==", item)[0].lower(): item for item in lines if "==" in item}


def test_conda_envs_agree_with_pyproject():
    """requirements.txt, the conda envs and pyproject pin the same versions; the dense CRF's
    pydensecrf2 (compiled at install) is only in the crf extra, which the test command adds."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = {name: pins(items) for name, items in project["optional-dependencies"].items()}
    wanted = pins(project["dependencies"])
    requirements = pins((ROOT / "requirements.txt").read_text().split())
    assert requirements == wanted | extras["test"]
    assert set(extras["crf"]) == {"pydensecrf2"} and not set(extras["crf"]) & set(wanted)
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "-r requirements.txt -e '.[crf]'" in ci
    assert ".venv/bin/pip install -r requirements.txt -e '.[crf]' && .venv/bin/python -m pytest" in readme
    snakemake_only = {"snakemake", "snakemake-executor-plugin-slurm",
                      "snakemake-executor-plugin-cluster-generic"}
    for env_file in sorted((ROOT / "envs").glob("*.yaml")):
        env = yaml.safe_load(env_file.read_text())
        pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
        got = pins(pip)
        for name, pin in got.items():
            assert wanted[name] == pin, f"{env_file.name}: {pin} != {wanted[name]}"
        expected = set(wanted) - snakemake_only
        if env_file.stem == "cpu":
            expected -= {"torch", "torchvision"}
        assert set(got) == expected, env_file.name


def coco_tree(root):
    (root / "annotations").mkdir(parents=True)
    for split in ("train", "val"):
        (root / f"{split}2014").mkdir()
        (root / "annotations" / f"instances_{split}2014.json").write_text("{}")


def test_coco_keys_are_checked_without_reading_the_annotations(config, tmp_path):
    coco_tree(tmp_path)
    config["dataset"].update(source="coco", root=str(tmp_path), train_list=None, val_list=None,
                             test_list=None)
    validate(copy.deepcopy(config), SCHEMA)
    check_config(config)  # the stub annotation files ({}) are not read
    assert dataset_splits(config) == ("train", "val")
    bad = copy.deepcopy(config)
    bad["dataset"]["coco"]["val_annotations"] = "annotations/instances_minival.json"
    with pytest.raises(ConfigError,
                       match="'dataset.coco.val_annotations': annotation file not found"):
        check_config(bad)
    bad = copy.deepcopy(config)
    bad["dataset"]["coco"]["train_images"] = "train2017"
    with pytest.raises(ConfigError, match="'dataset.coco.train_images': directory not found"):
        check_config(bad)
    bad = copy.deepcopy(config)
    bad["dataset"]["coco"]["train_annotations"] = None
    with pytest.raises(ConfigError, match="'dataset.coco.train_annotations': must be set"):
        check_config(bad)
    bad = copy.deepcopy(config)
    bad["dataset"]["coco"]["val_annotations"] = None
    bad["dataset"]["val_list"] = "val.txt"
    with pytest.raises(ConfigError, match="'dataset.val_list': selects val images"):
        check_config(bad)
    bad = copy.deepcopy(config)
    bad["dataset"]["labels"] = "labels.csv"
    with pytest.raises(ConfigError, match="'dataset.labels': COCO's image labels come from"):
        check_config(bad)
    config["dataset"]["coco"].update(val_annotations=None, val_images=None)
    assert dataset_splits(config) == ("train",)
    config["supervision"] = "full"  # COCO's masks come from its annotations
    check_config(config)


def test_exporting_refined_regions_needs_them(config):
    config["export"]["refined"] = True
    check_config(config)
    config["saliency_refine"] = False
    with pytest.raises(ConfigError, match="'export.refined': there are refined regions only"):
        check_config(config)
