rule saliency:
    input:
        index=L.index_file("train"),
        external_maps=external_saliency_maps(),
    output:
        L.shared(L.SALIENCY),
    params:
        shard=lambda wc: int(wc.shard),
        n_shards=SHARDS["train"],
        method=config["saliency"]["method"],
        external_dir=config["saliency"]["external_dir"],
        pixels_per_region=config["saliency"]["pixels_per_region"],
        compactness=config["saliency"]["compactness"],
    resources:
        mem_mb=2000,
        runtime=60,
    log:
        "results/logs/saliency/shard{shard}.log",
    benchmark:
        "results/benchmarks/saliency/shard{shard}.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/saliency.py"


rule refine_regions:
    input:
        index=L.index_file("train"),
        superpixels=L.shared(L.SUPERPIXELS),
        regions=stage_shard(L.REGIONS, k=1),
        saliency=L.shared(L.SALIENCY),
    output:
        L.artifact(k=1, stage=L.REFINED),
    params:
        shard=lambda wc: int(wc.shard),
        n_shards=SHARDS["train"],
        threshold=config["refine"]["threshold"],
        keep_object=config["refine"]["keep_object"],
        bins_per_channel=config["refine"]["bins_per_channel"],
        multi_class=config["refine"]["multi_class"],
    resources:
        mem_mb=2000,
        runtime=60,
    log:
        "{root}/logs/iter1/refine_regions/shard{shard}.log",
    benchmark:
        "{root}/benchmarks/iter1/refine_regions/shard{shard}.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/refine_regions.py"
