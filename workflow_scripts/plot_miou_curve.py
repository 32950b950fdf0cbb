from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.report import plot_miou_curves  # noqa: E402

plot_miou_curves(**snakemake.input, out=snakemake.output[0], **snakemake.params)
