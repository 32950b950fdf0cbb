# Figures and tables of a few small files each: a cluster run makes them itself instead of
# submitting them.
localrules:
    plot_miou_curve,
    stage_table,
    plot_diagnostics,
    plot_class_iou,
    plot_cam_thresholds,
    plot_training,
    qualitative_sample,


rule plot_miou_curve:
    input:
        [path for paths in report_runs().values() for path in paths],
    output:
        report(
            "results/report/miou_curve.svg",
            caption="../report/miou_curve.rst",
            category="Results",
        ),
    params:
        runs=report_runs(),
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "results/logs/report/plot_miou_curve.log",
    benchmark:
        "results/benchmarks/report/plot_miou_curve.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/plot_miou_curve.py"


rule stage_table:
    input:
        metrics=run_metrics(L.MAIN_ROOT),
        train_index=L.index_file("train"),
        val_index=L.index_file("val"),
        saliency="results/saliency_metrics.json",
        full=full_supervision_metrics(),
        cams=[L.cam_metrics()] if WEAK else [],
    output:
        report(
            "results/report/stage_table.html",
            caption="../report/stage_table.rst",
            category="Results",
        ),
    resources:
        mem_mb=500,
        runtime=10,
    log:
        "results/logs/report/stage_table.log",
    benchmark:
        "results/benchmarks/report/stage_table.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/stage_table.py"


rule plot_diagnostics:
    input:
        metrics=run_metrics(L.MAIN_ROOT),
    output:
        report(
            "results/report/diagnostics.svg",
            caption="../report/diagnostics.rst",
            category="Results",
        ),
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "results/logs/report/plot_diagnostics.log",
    benchmark:
        "results/benchmarks/report/plot_diagnostics.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/plot_diagnostics.py"


rule plot_cam_thresholds:
    input:
        metrics=L.cam_metrics(),
    output:
        report(
            "results/report/cam_thresholds.svg",
            caption="../report/cam_thresholds.rst",
            category="Results",
        ),
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "results/logs/report/plot_cam_thresholds.log",
    benchmark:
        "results/benchmarks/report/plot_cam_thresholds.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/plot_cam_thresholds.py"


rule plot_training:
    input:
        [path for _, _, path in training_histories()],
    output:
        report(
            "results/report/training.svg",
            caption="../report/training.rst",
            category="Results",
        ),
    params:
        trainings=training_histories(),
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "results/logs/report/plot_training.log",
    benchmark:
        "results/benchmarks/report/plot_training.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/plot_training.py"


rule plot_class_iou:
    input:
        metrics=run_metrics(L.MAIN_ROOT)[-1],
    output:
        report(
            "results/report/class_iou.svg",
            caption="../report/class_iou.rst",
            category="Results",
        ),
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "results/logs/report/plot_class_iou.log",
    benchmark:
        "results/benchmarks/report/plot_class_iou.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/plot_class_iou.py"


rule qualitative_sample:
    input:
        unpack(sample_inputs),
    output:
        report(
            "results/report/samples/sample{sample}.png",
            caption="../report/sample.rst",
            category="Examples",
            labels={"sample": "{sample}"},
        ),
    wildcard_constraints:
        sample=r"[0-9]+",
    params:
        sample=lambda wc: int(wc.sample),
        n_samples=len(REPORT_SAMPLES),
        n_shards=SHARDS["train"],
        mask_dir=MASK_DIR,
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "results/logs/report/qualitative_sample{sample}.log",
    benchmark:
        "results/benchmarks/report/qualitative_sample{sample}.tsv"
    conda:
        "../envs/cpu.yaml"
    script:
        "../workflow_scripts/qualitative_sample.py"


REPORT_FILES = [
    "results/report/miou_curve.svg",
    "results/report/stage_table.html",
    "results/report/class_iou.svg",
    "results/report/diagnostics.svg",
    "results/report/training.svg",
    *(["results/report/cam_thresholds.svg"] if WEAK else []),
    *[f"results/report/samples/sample{i}.png" for i in REPORT_SAMPLES],
]
