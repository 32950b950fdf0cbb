rule prepare_dataset:
    output:
        directory("results/dataset/VOC2012"),
    params:
        spec=config["dataset"]["synthetic"],
    log:
        "results/logs/prepare_dataset.log",
    benchmark:
        "results/benchmarks/prepare_dataset.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/prepare_dataset.py"


rule index_dataset:
    input:
        "results/dataset/VOC2012" if config["dataset"]["source"] == "synthetic" else [],
    output:
        "results/dataset/{split}.json",
    params:
        root=lambda wc: dataset_root(),
        list_path=lambda wc: config["dataset"][f"{wc.split}_list"],
        mask_dir=config["dataset"]["mask_dir"],
        classes=config["dataset"]["classes"],
        n_synthetic_classes=config["dataset"]["synthetic"]["n_classes"],
        source=config["dataset"]["source"],
        check_images=config["dataset"]["check_images"],
    log:
        "results/logs/index_dataset/{split}.log",
    benchmark:
        "results/benchmarks/index_dataset/{split}.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/index_dataset.py"
