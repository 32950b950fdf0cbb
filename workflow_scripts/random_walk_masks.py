from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.affinity import random_walk_masks  # noqa: E402

random_walk_masks(**snakemake.input, out=snakemake.output[0], **snakemake.params, threads=snakemake.threads)
