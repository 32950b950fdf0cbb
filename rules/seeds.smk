rule seeds_from_cam:
    input:
        index=index_file("train"),
        cams="results/cams/shard{shard}.h5",
        superpixels="results/superpixels/shard{shard}.h5",
    output:
        "{root}/iter1/seeds/shard{shard}.h5",
    params:
        shard=lambda wc: int(wc.shard),
        n_shards=SHARDS["train"],
        object_threshold=config["seeds"]["object_threshold"],
        local_max_min=config["seeds"]["local_max_min"],
        background_threshold=config["seeds"]["background_threshold"],
    resources:
        mem_mb=2000,
        runtime=60,
    log:
        "{root}/logs/iter1/seeds_from_cam/shard{shard}.log",
    benchmark:
        "{root}/benchmarks/iter1/seeds_from_cam/shard{shard}.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/seeds_from_cam.py"


rule seeds_from_masks:
    input:
        index=index_file("train"),
        masks=previous_masks,
        superpixels="results/superpixels/shard{shard}.h5",
        cam_seeds=anchor_seeds,
    output:
        "{root}/iter{k}/seeds/shard{shard}.h5",
    wildcard_constraints:
        k=r"[2-9]|[1-9][0-9]+",
    params:
        shard=lambda wc: int(wc.shard),
        n_shards=SHARDS["train"],
        min_confidence=config["seeds"]["mask_min_confidence"],
        min_share=config["seeds"]["mask_min_share"],
    resources:
        mem_mb=2000,
        runtime=60,
    log:
        "{root}/logs/iter{k}/seeds_from_masks/shard{shard}.log",
    benchmark:
        "{root}/benchmarks/iter{k}/seeds_from_masks/shard{shard}.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/seeds_from_masks.py"
