EVALUATED = "|".join(L.ITERATION_STAGES)


# Aggregations of a few JSON files: a cluster run does them itself instead of submitting them.
localrules:
    evaluate,
    compare_runs,


rule evaluate_stage:
    input:
        redone_if_inputs_gone(scored_index, scored_labels, scored_superpixels),
        index=scored_index,
        labels=scored_labels,
        superpixels=scored_superpixels,
    output:
        L.stage_metrics(),
    wildcard_constraints:
        stage=EVALUATED,
    params:
        stage=lambda wc: wc.stage,
        mask_dir=MASK_DIR,
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        "{root}/logs/iter{k}/evaluate_stage/{stage}.log",
    benchmark:
        "{root}/benchmarks/iter{k}/evaluate_stage/{stage}.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/evaluate_stage.py"


rule evaluate_targets:
    input:
        redone_if_inputs_gone(L.index_file("train"), pixelnet_labels, shared_files(L.SUPERPIXELS)),
        index=L.index_file("train"),
        labels=pixelnet_labels,
        superpixels=shared_files(L.SUPERPIXELS),
    output:
        L.stage_metrics(stage=L.TARGETS),
    params:
        target=lambda wc: pixelnet_target(wc).kind,
        label_stage=lambda wc: pixelnet_target(wc).stage or "",
        min_label_confidence=config["pixelnet"]["min_label_confidence"],
        mask_dir=MASK_DIR,
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        "{root}/logs/iter{k}/evaluate_targets.log",
    benchmark:
        "{root}/benchmarks/iter{k}/evaluate_targets.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/evaluate_targets.py"


rule evaluate:
    input:
        redone_if_inputs_gone(iteration_stage_metrics, reported_pngs),
        unpack(iteration_stage_metrics),
        pngs=reported_pngs,
        trainings=iteration_histories,
    output:
        metrics=L.iteration_metrics(),
        miou=L.miou(),
    params:
        iteration=iteration,
        reported_split=lambda wc: reported_split(),
        workflow_dir=workflow.basedir,
        config_sha256=CONFIG_SHA256,
        snakemake_version=SNAKEMAKE_VERSION,
    resources:
        mem_mb=500,
        runtime=10,
    log:
        "{root}/logs/iter{k}/evaluate.log",
    benchmark:
        "{root}/benchmarks/iter{k}/evaluate.tsv"
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/evaluate.py"


rule evaluate_saliency:
    input:
        redone_if_inputs_gone(L.index_file("train"), shared_files(L.SALIENCY)),
        index=L.index_file("train"),
        saliency=shared_files(L.SALIENCY),
    output:
        "results/saliency_metrics.json",
    params:
        mask_dir=MASK_DIR,
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        "results/logs/evaluate_saliency.log",
    benchmark:
        "results/benchmarks/evaluate_saliency.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/evaluate_saliency.py"


rule evaluate_cams:
    input:
        index=L.index_file("train"),
        cams=shared_files(L.CAMS),
    output:
        L.cam_metrics(),
    params:
        thresholds=list(CAM_THRESHOLDS),
        mask_dir=MASK_DIR,
    resources:
        mem_mb=mem_per_attempt(2000),
        runtime=30,
    log:
        "results/logs/evaluate_cams.log",
    benchmark:
        "results/benchmarks/evaluate_cams.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/evaluate_cams.py"


rule compare_runs:
    input:
        redone_if_inputs_gone(comparison_metrics),
        lambda wc: [path for paths in comparison_metrics(wc).values() for path in paths],
    output:
        "results/comparison.json",
    params:
        runs=comparison_metrics,
    resources:
        mem_mb=500,
        runtime=10,
    log:
        "results/logs/compare_runs.log",
    benchmark:
        "results/benchmarks/compare_runs.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/compare_runs.py"
