"""At PASCAL VOC scale (train_aug: 10,582 training, 1,449 val images; 5 iterations) the workflow
is a DAG of a few hundred jobs, not one per image. A dry run needs only the image lists."""

from __future__ import annotations

import yaml

from workflow_utils import ROOT, planned_jobs, snakemake


def fake_voc(root):
    lists = root / "ImageSets" / "Segmentation"
    lists.mkdir(parents=True)
    (root / "JPEGImages").mkdir()
    (root / "SegmentationClassAug").mkdir()
    (lists / "train_aug.txt").write_text("".join(f"2008_{i:06d}\n" for i in range(10582)))
    (lists / "val.txt").write_text("".join(f"2007_{i:06d}\n" for i in range(1449)))


def voc_config(workdir, voc_root):
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    overlay = yaml.safe_load((ROOT / "examples" / "voc2012.yaml").read_text())
    for key, value in overlay.items():
        if isinstance(value, dict):
            config[key].update(value)
        else:
            config[key] = value
    config["dataset"]["root"] = str(voc_root)
    workdir.mkdir()
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))


def test_voc_scale_dag_has_a_few_hundred_jobs(tmp_path):
    fake_voc(tmp_path / "VOC2012")
    voc_config(tmp_path / "run", tmp_path / "VOC2012")
    main = planned_jobs(snakemake(tmp_path / "run", "-n", "--cores", "8", "results/iter5/miou.txt").stdout)
    assert 100 <= sum(main.values()) <= 300, main
    assert main["train_pixelnet"] == 5 and main["train_regionnet"] == 5
    assert main["superpixels"] == 8 and main["make_cams"] == 8
    everything = planned_jobs(snakemake(tmp_path / "run", "-n", "--cores", "8").stdout)
    assert sum(everything.values()) <= 500, everything
