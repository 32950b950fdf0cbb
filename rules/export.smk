rule export_pseudo_labels:
    input:
        masks=stage_shards(L.TRAIN_MASKS),
    output:
        directory(L.pseudo_labels()),
    params:
        stage=L.TRAIN_MASKS,
    resources:
        mem_mb=1000,
        runtime=60,
    log:
        "{root}/logs/iter{k}/export_pseudo_labels.log",
    benchmark:
        "{root}/benchmarks/iter{k}/export_pseudo_labels.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/export_pseudo_labels.py"


rule export_refined_labels:
    input:
        masks=stage_shards(L.REFINED, k=1),
        superpixels=shared_files(L.SUPERPIXELS),
    output:
        directory(L.refined_labels()),
    params:
        stage=L.REFINED,
    resources:
        mem_mb=1000,
        runtime=60,
    log:
        "{root}/logs/iter1/export_refined_labels.log",
    benchmark:
        "{root}/benchmarks/iter1/export_refined_labels.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/export_refined_labels.py"
