from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.report import sample_figure  # noqa: E402

sample_figure(**snakemake.input, out=snakemake.output[0], **snakemake.params)
