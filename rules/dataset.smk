rule prepare_dataset:
    output:
        directory(L.embedded_dataset()),
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


if DATASET["source"] == "coco":

    rule index_coco:
        input:
            coco_inputs,
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
