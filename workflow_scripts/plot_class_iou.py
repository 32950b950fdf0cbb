from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.report import plot_class_iou  # noqa: E402

plot_class_iou(**snakemake.input, out=snakemake.output[0], **snakemake.params)
