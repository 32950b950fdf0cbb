rule superpixels:
    input:
        index=L.index_file("train"),
    output:
        L.shared(L.SUPERPIXELS),
    params:
        shard=lambda wc: int(wc.shard),
        n_shards=SHARDS["train"],
        scale=config["superpixels"]["scale"],
        sigma=config["superpixels"]["sigma"],
        min_size=config["superpixels"]["min_size"],
    resources:
        mem_mb=2000,
        runtime=60,
    log:
        "results/logs/superpixels/shard{shard}.log",
    benchmark:
        "results/benchmarks/superpixels/shard{shard}.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/superpixels.py"
