from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.classifier import train_classifier  # noqa: E402

train_classifier(**snakemake.input, **snakemake.params, threads=snakemake.threads, **snakemake.output)
