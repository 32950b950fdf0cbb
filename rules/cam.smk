rule train_classifier:
    input:
        index=index_file("train"),
    output:
        model="results/classifier/model.pt",
    params:
        checkpoint_dir="results/classifier/checkpoints",
        net=config["classifier"],
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
        "results/logs/train_classifier.log",
    benchmark:
        "results/benchmarks/train_classifier.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_classifier.py"


rule make_cams:
    input:
        index=index_file("train"),
        model="results/classifier/model.pt",
    output:
        "results/cams/shard{shard}.h5",
    params:
        shard=lambda wc: int(wc.shard),
        n_shards=SHARDS["train"],
        scales=config["cam"]["scales"],
        flip=config["cam"]["flip"],
        device=config["device"],
    threads: TORCH_THREADS
    resources:
        gpu=1,
        mem_mb=4000,
        runtime=60,
    log:
        "results/logs/make_cams/shard{shard}.log",
    benchmark:
        "results/benchmarks/make_cams/shard{shard}.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/make_cams.py"
