rule train_regionnet:
    input:
        index=L.index_file("train"),
        seeds=stage_shards(L.SEEDS),
        superpixels=shared_files(L.SUPERPIXELS),
        init=regionnet_init,
        weights_file=weights_file("regionnet"),
    output:
        model=L.model(network=L.REGIONNET),
        history=L.history(network=L.REGIONNET),
    params:
        checkpoint_dir=lambda wc: L.checkpoints(wc.root, wc.k, L.REGIONNET),
        backbone=config["regionnet"]["backbone"],
        weights=config["regionnet"]["weights"],
        pooled=for_iteration("regionnet", "pooled"),
        loss_weighting=config["regionnet"]["loss_weighting"],
        hidden=config["regionnet"]["hidden"],
        epochs=for_iteration("regionnet", "epochs"),
        batch_size=config["regionnet"]["batch_size"],
        lr=config["regionnet"]["lr"],
        weight_decay=config["regionnet"]["weight_decay"],
        scale=config["regionnet"]["scale"],
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
        "{root}/logs/iter{k}/train_regionnet.log",
    benchmark:
        "{root}/benchmarks/iter{k}/train_regionnet.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_regionnet.py"


rule infer_regionnet:
    input:
        index=L.index_file("train"),
        model=L.model(network=L.REGIONNET),
        superpixels=L.shared(L.SUPERPIXELS),
        seeds=stage_shard(L.SEEDS),
    output:
        L.artifact(stage=L.REGIONS),
    params:
        shard=lambda wc: int(wc.shard),
        n_shards=SHARDS["train"],
        seed_override=for_iteration("regionnet", "seed_override"),
        keep_mask_objects=after_iteration_one("regionnet", "keep_mask_objects"),
        keep_every_class=config["regionnet"]["keep_every_class"],
        device=config["device"],
    threads: TORCH_THREADS
    resources:
        gpu=1,
        mem_mb=mem_per_attempt(4000),
        runtime=60,
    log:
        "{root}/logs/iter{k}/infer_regionnet/shard{shard}.log",
    benchmark:
        "{root}/benchmarks/iter{k}/infer_regionnet/shard{shard}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/infer_regionnet.py"
