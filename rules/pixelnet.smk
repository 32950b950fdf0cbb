rule train_pixelnet:
    input:
        index=L.index_file("train"),
        labels=pixelnet_labels,
        superpixels=shared_files(L.SUPERPIXELS),
        classifier=classifier_model_if(config["pixelnet"]["init_from_classifier"]),
        previous=previous_pixelnet,
        weights_file=weights_file("pixelnet"),
    output:
        model=L.model(network=L.PIXELNET),
        history=L.history(network=L.PIXELNET),
    params:
        checkpoint_dir=lambda wc: L.checkpoints(wc.root, wc.k, L.PIXELNET),
        target=lambda wc: pixelnet_target(wc).kind,
        label_stage=lambda wc: pixelnet_target(wc).stage or "",
        arch=config["pixelnet"]["arch"],
        weights=config["pixelnet"]["weights"],
        epochs=for_iteration("pixelnet", "epochs"),
        batch_size=config["pixelnet"]["batch_size"],
        lr=config["pixelnet"]["lr"],
        weight_decay=config["pixelnet"]["weight_decay"],
        crop=config["pixelnet"]["crop"],
        scale=config["pixelnet"]["scale"],
        min_label_confidence=config["pixelnet"]["min_label_confidence"],
        mask_dir=lambda wc: MASK_DIR if pixelnet_target(wc).kind == GROUND_TRUTH else None,
        seed=config["seed"],
        device=config["device"],
        workers=config["workers"],
        amp=config["amp"],
    threads: TORCH_THREADS
    resources:
        gpu=1,
        mem_mb=mem_per_attempt(8000),
        runtime=480,
    log:
        "{root}/logs/iter{k}/train_pixelnet.log",
    benchmark:
        "{root}/benchmarks/iter{k}/train_pixelnet.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_pixelnet.py"


rule predict_pixelnet:
    input:
        index=lambda wc: L.index_file(wc.split),
        model=L.model(network=L.PIXELNET),
    output:
        L.artifact(stage="{split}_masks"),
    params:
        stage=lambda wc: f"{wc.split}_masks",
        shard=lambda wc: int(wc.shard),
        n_shards=lambda wc: SHARDS[wc.split],
        restrict=lambda wc: wc.split == "train",
        flip=config["pixelnet"]["flip_test"],
        scales=lambda wc: [1.0] if wc.split == "train" else config["pixelnet"]["test_scales"],
        crf=prediction_crf,
        device=config["device"],
    threads: TORCH_THREADS
    resources:
        gpu=1,
        mem_mb=mem_per_attempt(4000),
        runtime=60,
    log:
        "{root}/logs/iter{k}/predict_pixelnet/{split}_shard{shard}.log",
    benchmark:
        "{root}/benchmarks/iter{k}/predict_pixelnet/{split}_shard{shard}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/predict_pixelnet.py"


rule crf_labels:
    input:
        index=L.index_file("train"),
        labels=lambda wc: PLAN.artifact(
            wc.root, iteration(wc), PLAN.region_source(wc.root, iteration(wc)), wc.shard
        ),
        superpixels=L.shared(L.SUPERPIXELS),
    output:
        L.artifact(stage=L.CRF_LABELS),
    params:
        label_stage=lambda wc: PLAN.region_source(wc.root, iteration(wc)),
        shard=lambda wc: int(wc.shard),
        n_shards=SHARDS["train"],
        crf=CRF_SETTINGS,
        label_confidence=config["crf"]["label_confidence"],
    threads: TORCH_THREADS
    resources:
        mem_mb=mem_per_attempt(2000),
        runtime=60,
    log:
        "{root}/logs/iter{k}/crf_labels/shard{shard}.log",
    benchmark:
        "{root}/benchmarks/iter{k}/crf_labels/shard{shard}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/crf_labels.py"


rule export_pngs:
    input:
        masks=lambda wc: split_shards(L.artifact(wc.root, wc.k, L.mask_stage(wc.split)), wc.split),
    output:
        directory(L.prediction_pngs()),
    params:
        stage=lambda wc: L.mask_stage(wc.split),
    resources:
        mem_mb=1000,
        runtime=30,
    log:
        "{root}/logs/iter{k}/export_pngs/{split}.log",
    benchmark:
        "{root}/benchmarks/iter{k}/export_pngs/{split}.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/export_pngs.py"
