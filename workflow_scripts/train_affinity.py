from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.affinity import train_affinity  # noqa: E402

train_affinity(**snakemake.input, **snakemake.params, threads=snakemake.threads, **snakemake.output)
