from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.export import export_val_pngs  # noqa: E402

export_val_pngs(list(snakemake.input.masks), snakemake.output[0])
