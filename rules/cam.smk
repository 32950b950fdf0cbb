rule train_classifier:
    input:
        index=L.index_file("train"),
        weights_file=weights_file("classifier"),
    output:
        model=L.classifier_model(),
        history=L.classifier_history(),
    params:
        checkpoint_dir=L.classifier_checkpoints(),
        backbone=config["classifier"]["backbone"],
        weights=config["classifier"]["weights"],
        output_stride=config["classifier"]["output_stride"],
        epochs=config["classifier"]["epochs"],
        batch_size=config["classifier"]["batch_size"],
        lr=config["classifier"]["lr"],
        weight_decay=config["classifier"]["weight_decay"],
        crop=config["classifier"]["crop"],
        scale=config["classifier"]["scale"],
        seed=config["seed"],
        device=config["device"],
        workers=config["workers"],
        amp=config["amp"],
    threads: TORCH_THREADS
    resources:
        gpu=1,
        mem_mb=mem_per_attempt(8000),
        runtime=240,
    log:
        "results/logs/train_classifier.log",
    benchmark:
        "results/benchmarks/train_classifier.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_classifier.py"


rule make_cams:
    input:
        index=L.index_file("train"),
        model=L.classifier_model(),
    output:
        L.shared(L.CAMS),
    params:
        shard=lambda wc: int(wc.shard),
        n_shards=SHARDS["train"],
        scales=config["cam"]["scales"],
        flip=config["cam"]["flip"],
        device=config["device"],
    threads: TORCH_THREADS
    resources:
        gpu=1,
        mem_mb=mem_per_attempt(4000),
        runtime=60,
    log:
        "results/logs/make_cams/shard{shard}.log",
    benchmark:
        "results/benchmarks/make_cams/shard{shard}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/make_cams.py"
