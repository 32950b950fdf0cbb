from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.regionnet import train_regionnet  # noqa: E402

train_regionnet(**snakemake.input, **snakemake.params, threads=snakemake.threads, **snakemake.output)
