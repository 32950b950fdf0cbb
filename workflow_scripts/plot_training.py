from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.report import plot_training  # noqa: E402

plot_training(**snakemake.input, out=snakemake.output[0], **snakemake.params)
