# mcof-workflow: weakly supervised semantic segmentation by iteratively mining common object
# features (Wang et al., CVPR 2018). See README.md; every setting is in config.yaml.

from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/dataset.smk"
include: "rules/cam.smk"
include: "rules/affinity.smk"
include: "rules/superpixels.smk"
include: "rules/seeds.smk"
include: "rules/regionnet.smk"
include: "rules/saliency.smk"
include: "rules/pixelnet.smk"
include: "rules/evaluate.smk"
include: "rules/export.smk"
include: "rules/report.smk"


rule all:
    input:
        L.miou(L.MAIN_ROOT, LAST) if REPORTED else [],
        run_artifacts(),
        pseudo_label_targets(),
        "results/saliency_metrics.json",
        REPORT_FILES if REPORTED else [],
    default_target: True
