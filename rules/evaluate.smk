EVALUATED = "seeds|regions|refined|train_masks|val_masks"


rule evaluate_shard:
    input:
        index=lambda wc: index_file(stage_split(wc.stage)),
        labels="{root}/iter{k}/{stage}/shard{shard}.h5",
        superpixels=lambda wc: (
            [] if wc.stage.endswith("masks") else f"results/superpixels/shard{wc.shard}.h5"
        ),
    output:
        "{root}/iter{k}/eval/{stage}/shard{shard}.json",
    wildcard_constraints:
        stage=EVALUATED,
    params:
        shard=lambda wc: int(wc.shard),
        n_shards=lambda wc: SHARDS[stage_split(wc.stage)],
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        "{root}/logs/iter{k}/evaluate_shard/{stage}_shard{shard}.log",
    benchmark:
        "{root}/benchmarks/iter{k}/evaluate_shard/{stage}_shard{shard}.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/evaluate_shard.py"


rule evaluate_stage:
    input:
        index=lambda wc: index_file(stage_split(wc.stage)),
        shards=lambda wc: shard_files(
            f"{wc.root}/iter{wc.k}/eval/{wc.stage}/shard{{shard}}.json", stage_split(wc.stage)
        ),
    output:
        "{root}/iter{k}/{stage}_metrics.json",
    wildcard_constraints:
        stage=EVALUATED,
    resources:
        mem_mb=500,
        runtime=10,
    log:
        "{root}/logs/iter{k}/evaluate_stage/{stage}.log",
    benchmark:
        "{root}/benchmarks/iter{k}/evaluate_stage/{stage}.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/evaluate_stage.py"


rule evaluate:
    input:
        unpack(iteration_stage_metrics),
        val_pred=val_pngs,
    output:
        metrics="{root}/iter{k}/metrics.json",
        miou="{root}/iter{k}/miou.txt",
    params:
        iteration=lambda wc: int(wc.k),
    resources:
        mem_mb=500,
        runtime=10,
    log:
        "{root}/logs/iter{k}/evaluate.log",
    benchmark:
        "{root}/benchmarks/iter{k}/evaluate.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/evaluate.py"


rule evaluate_saliency_shard:
    input:
        index=index_file("train"),
        saliency="results/saliency/shard{shard}.h5",
    output:
        "results/saliency/eval/shard{shard}.json",
    params:
        shard=lambda wc: int(wc.shard),
        n_shards=SHARDS["train"],
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        "results/logs/evaluate_saliency/shard{shard}.log",
    benchmark:
        "results/benchmarks/evaluate_saliency/shard{shard}.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/evaluate_saliency_shard.py"


rule evaluate_saliency:
    input:
        shard_files("results/saliency/eval/shard{shard}.json"),
    output:
        "results/saliency_metrics.json",
    resources:
        mem_mb=500,
        runtime=10,
    log:
        "results/logs/evaluate_saliency.log",
    benchmark:
        "results/benchmarks/evaluate_saliency.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/evaluate_saliency.py"


rule compare_runs:
    input:
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
