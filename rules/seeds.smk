rule seeds_from_cam:
    input:
        index=L.index_file("train"),
        cams=L.shared(CAM_SOURCE),
        superpixels=L.shared(L.SUPERPIXELS),
    output:
        L.artifact(k=1, stage=L.SEEDS),
    params:
        shard=lambda wc: int(wc.shard),
        n_shards=SHARDS["train"],
        object_threshold=config["seeds"]["object_threshold"],
        local_max_min=config["seeds"]["local_max_min"],
        background_threshold=config["seeds"]["background_threshold"],
        keep_every_class=config["seeds"]["keep_every_class"],
        cams_stage=CAM_SOURCE,
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
        index=L.index_file("train"),
        masks=previous_masks,
        superpixels=L.shared(L.SUPERPIXELS),
        cam_seeds=anchor_seeds,
        cams=(L.shared(CAM_SOURCE) if config["seeds"]["keep_every_class"] else []),
    output:
        L.artifact(stage=L.SEEDS),
    wildcard_constraints:
        k=r"[2-9]|[1-9][0-9]+",
    params:
        shard=lambda wc: int(wc.shard),
        n_shards=SHARDS["train"],
        min_confidence=config["seeds"]["mask_min_confidence"],
        min_share=config["seeds"]["mask_min_share"],
        masks_stage=lambda wc: PLAN.seed_masks(wc.root),
        cams_stage=CAM_SOURCE,
        anchor_multi_class=config["seeds"]["multi_class_objects"] == "cam",
        keep_every_class=config["seeds"]["keep_every_class"],
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
