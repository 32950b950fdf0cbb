from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.export import export_pngs  # noqa: E402

export_pngs(**snakemake.input, out=snakemake.output[0], **snakemake.params)
