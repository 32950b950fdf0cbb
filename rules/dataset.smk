rule prepare_dataset:
    output:
        directory("results/dataset/VOC2012"),
    params:
        source=DATASET["source"],
        spec=DATASET.get(DATASET["source"], {}),
    log:
        "results/logs/prepare_dataset.log",
    benchmark:
        "results/benchmarks/prepare_dataset.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/prepare_dataset.py"


def dataset_inputs(wc):
    """The files an index is made from: the embedded dataset, or the user's lists and labels
    (declared, so that a changed file reruns what depends on it)."""
    if DATASET["source"] in EMBEDDED:
        return ["results/dataset/VOC2012"]
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


def coco_inputs():
    """The instances files and lists a COCO index is made from (declared, so that a changed
    file reruns what depends on it; read by the index job, never while planning)."""
    return [
        path
        for spec in coco_splits().values()
        for path in (spec["annotations"], dataset_file(spec["list_path"]))
        if path
    ]


def dataset_file(path):
    if not path:
        return None
    return path if os.path.isabs(path) else os.path.join(DATASET_ROOT, path)


if DATASET["source"] == "coco":

    rule index_coco:
        input:
            coco_inputs(),
        output:
            **{split: L.index_file(split) for split in SPLITS},
            masks=directory(L.annotation_masks()),
        params:
            root=DATASET_ROOT,
            splits=coco_splits(),
            classes=CLASSES,
            check_images=DATASET["check_images"],
        resources:
            mem_mb=16000,
            runtime=240,
        log:
            "results/logs/index_coco.log",
        benchmark:
            "results/benchmarks/index_coco.tsv"
        conda:
            "../envs/cpu.yaml"
        script:
            "../workflow_scripts/index_coco.py"

else:

    rule index_dataset:
        input:
            dataset_inputs,
        output:
            L.index_file("{split}"),
        params:
            root=DATASET_ROOT,
            split=lambda wc: wc.split,
            list_path=lambda wc: DATASET[f"{wc.split}_list"],
            image_dir=DATASET["image_dir"],
            mask_dir=DATASET["mask_dir"],
            labels_from=lambda wc: (
                None if wc.split != "train" else "file" if DATASET["labels"] else "masks"
            ),
            label_file=dataset_file(DATASET["labels"]),
            classes=CLASSES,
            check_images=DATASET["check_images"],
        log:
            "results/logs/index_dataset/{split}.log",
        benchmark:
            "results/benchmarks/index_dataset/{split}.tsv"
        conda:
            "../envs/cpu.yaml"
        script:
            "../workflow_scripts/index_dataset.py"
