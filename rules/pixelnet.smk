rule train_pixelnet:
    input:
        index=index_file("train"),
        labels=pixelnet_labels,
        superpixels=shard_files("results/superpixels/shard{shard}.h5"),
        classifier=classifier_model_if(config["pixelnet"]["init_from_classifier"]),
        previous=previous_pixelnet,
    output:
        model="{root}/iter{k}/pixelnet.pt",
    params:
        checkpoint_dir=lambda wc: f"{wc.root}/iter{wc.k}/checkpoints/pixelnet",
        target=lambda wc: pixelnet_target(wc).kind,
        label_stage=lambda wc: pixelnet_target(wc).stage or "",
        net=config["pixelnet"],
        seed=config["seed"],
        device=config["device"],
        workers=config["workers"],
        amp=config["amp"],
    threads: TORCH_THREADS
    resources:
        gpu=1,
        mem_mb=8000,
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
        index=lambda wc: index_file(wc.split),
        model="{root}/iter{k}/pixelnet.pt",
    output:
        "{root}/iter{k}/{split}_masks/shard{shard}.h5",
    params:
        stage=lambda wc: f"{wc.split}_masks",
        shard=lambda wc: int(wc.shard),
        n_shards=lambda wc: SHARDS[wc.split],
        restrict=lambda wc: wc.split == "train",
        flip=config["pixelnet"]["flip_test"],
        crf=CRF,
        device=config["device"],
    threads: TORCH_THREADS
    resources:
        gpu=1,
        mem_mb=4000,
        runtime=60,
    log:
        "{root}/logs/iter{k}/predict_pixelnet/{split}_shard{shard}.log",
    benchmark:
        "{root}/benchmarks/iter{k}/predict_pixelnet/{split}_shard{shard}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/predict_pixelnet.py"


rule export_val_pngs:
    input:
        masks=shard_files("{{root}}/iter{{k}}/val_masks/shard{shard}.h5", "val"),
    output:
        directory("{root}/iter{k}/val_pred"),
    resources:
        mem_mb=1000,
        runtime=30,
    log:
        "{root}/logs/iter{k}/export_val_pngs.log",
    benchmark:
        "{root}/benchmarks/iter{k}/export_val_pngs.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/export_val_pngs.py"
