from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.pixelnet import train_pixelnet  # noqa: E402

train_pixelnet(**snakemake.input, **snakemake.params, threads=snakemake.threads, **snakemake.output)
