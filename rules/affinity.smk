rule train_affinity:
    input:
        index=L.index_file("train"),
        cams=shared_files(L.CAMS),
        init=classifier_model_if(config["affinity"]["init_from_classifier"]),
        weights_file=weights_file("affinity"),
    output:
        model=L.affinity_model(),
        history=L.affinity_history(),
    params:
        checkpoint_dir=L.affinity_checkpoints(),
        backbone=config["affinity"]["backbone"],
        weights=config["affinity"]["weights"],
        dim=config["affinity"]["dim"],
        radius=config["affinity"]["radius"],
        high=config["affinity"]["high"],
        low=config["affinity"]["low"],
        epochs=config["affinity"]["epochs"],
        batch_size=config["affinity"]["batch_size"],
        lr=config["affinity"]["lr"],
        weight_decay=config["affinity"]["weight_decay"],
        crop=config["affinity"]["crop"],
        scale=config["affinity"]["scale"],
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
        "results/logs/train_affinity.log",
    benchmark:
        "results/benchmarks/train_affinity.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_affinity.py"


WALK = {key: config["affinity"][key] for key in ("radius", "beta", "steps")}


rule random_walk_cams:
    input:
        index=L.index_file("train"),
        model=L.affinity_model(),
        cams=L.shared(L.CAMS),
    output:
        L.shared(L.RW_CAMS),
    params:
        **WALK,
        shard=lambda wc: int(wc.shard),
        n_shards=SHARDS["train"],
        background_power=config["affinity"]["background_power"],
        device=config["device"],
    threads: TORCH_THREADS
    resources:
        gpu=1,
        mem_mb=mem_per_attempt(4000),
        runtime=60,
    log:
        "results/logs/random_walk_cams/shard{shard}.log",
    benchmark:
        "results/benchmarks/random_walk_cams/shard{shard}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/random_walk_cams.py"


rule random_walk_masks:
    input:
        index=L.index_file("train"),
        model=L.affinity_model(),
        masks=stage_shard(L.TRAIN_MASKS),
    output:
        L.artifact(stage=L.RW_MASKS),
    params:
        **WALK,
        shard=lambda wc: int(wc.shard),
        n_shards=SHARDS["train"],
        device=config["device"],
    threads: TORCH_THREADS
    resources:
        gpu=1,
        mem_mb=mem_per_attempt(4000),
        runtime=60,
    log:
        "{root}/logs/iter{k}/random_walk_masks/shard{shard}.log",
    benchmark:
        "{root}/benchmarks/iter{k}/random_walk_masks/shard{shard}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/random_walk_masks.py"
