rule train_regionnet:
    input:
        index=index_file("train"),
        seeds=regionnet_seeds,
        superpixels=shard_files("results/superpixels/shard{shard}.h5"),
        classifier=classifier_model_if(config["regionnet"]["init_from_classifier"]),
    output:
        model="{root}/iter{k}/regionnet.pt",
    params:
        checkpoint_dir=lambda wc: f"{wc.root}/iter{wc.k}/checkpoints/regionnet",
        net=config["regionnet"],
        pooled=lambda wc: config["regionnet"]["pooled_first" if wc.k == "1" else "pooled_later"],
        seed=config["seed"],
        device=config["device"],
        workers=config["workers"],
        amp=config["amp"],
    threads: TORCH_THREADS
    resources:
        gpu=1,
        mem_mb=8000,
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
        index=index_file("train"),
        model="{root}/iter{k}/regionnet.pt",
        superpixels="results/superpixels/shard{shard}.h5",
        seeds=lambda wc: f"{home(wc, 'seeds')}/iter{wc.k}/seeds/shard{wc.shard}.h5",
    output:
        "{root}/iter{k}/regions/shard{shard}.h5",
    params:
        shard=lambda wc: int(wc.shard),
        n_shards=SHARDS["train"],
        seed_override=config["regionnet"]["seed_override"],
        device=config["device"],
    threads: TORCH_THREADS
    resources:
        gpu=1,
        mem_mb=4000,
        runtime=60,
    log:
        "{root}/logs/iter{k}/infer_regionnet/shard{shard}.log",
    benchmark:
        "{root}/benchmarks/iter{k}/infer_regionnet/shard{shard}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/infer_regionnet.py"
