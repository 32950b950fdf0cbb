from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.report import stage_table  # noqa: E402

stage_table(**snakemake.input, out=snakemake.output[0], **snakemake.params)
