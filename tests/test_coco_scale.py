"""At COCO 2014 scale (82,783 train2014, 40,504 val2014 images; 5 iterations) the workflow is a
DAG of a few hundred jobs, planned in seconds: a dry run needs the annotation files to exist, not
to be read (they are stubs here), and no image."""

from __future__ import annotations

import resource
import time

import yaml

from workflow_utils import ROOT, planned_jobs, snakemake

N_TRAIN, N_VAL = 82_783, 40_504


def fake_coco(root):
    """Stub instances files, empty image folders, and lists naming every COCO 2014 id."""
    (root / "annotations").mkdir(parents=True)
    for split, n in (("train", N_TRAIN), ("val", N_VAL)):
        (root / f"{split}2014").mkdir()
        (root / "annotations" / f"instances_{split}2014.json").write_text("{}")
        (root / f"{split}.txt").write_text(
            "".join(f"COCO_{split}2014_{i:012d}\n" for i in range(1, n + 1)))


def coco_config(workdir, coco_root):
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    overlay = yaml.safe_load((ROOT / "examples" / "coco2014.yaml").read_text())
    for key, value in overlay.items():
        if isinstance(value, dict):
            config[key].update(value)
        else:
            config[key] = value
    config["dataset"].update(root=str(coco_root), train_list="train.txt", val_list="val.txt")
    workdir.mkdir()
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))


def timed_dry_run(workdir, *targets):
    """Job counts of a dry run, and the CPU seconds Snakemake spent on it (parsing the workflow
    and building the DAG: what the machine's other load does not change) with the wall time."""
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    proc = snakemake(workdir, "-n", "--cores", "8", *targets)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return planned_jobs(proc.stdout), cpu, time.monotonic() - start


def test_coco_scale_dag_is_planned_in_seconds(tmp_path):
    fake_coco(tmp_path / "coco")
    coco_config(tmp_path / "run", tmp_path / "coco")
    main, cpu, wall = timed_dry_run(tmp_path / "run", "results/iter5/miou.txt")
    assert cpu <= 10, f"dry run took {cpu:.1f} s of CPU ({wall:.1f} s wall)"
    assert sum(main.values()) <= 500, main
    assert main["index_coco"] == 1 and main["train_pixelnet"] == 5 and main["train_regionnet"] == 5
    assert main["superpixels"] == 16 and main["make_cams"] == 16
    everything, cpu, wall = timed_dry_run(tmp_path / "run")
    assert cpu <= 10, f"dry run of the default target took {cpu:.1f} s of CPU ({wall:.1f} s wall)"
    assert sum(everything.values()) <= 500, everything
    assert everything["export_pseudo_labels"] == 1
