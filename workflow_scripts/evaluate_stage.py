from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.evaluate import summarize_confusions  # noqa: E402

summarize_confusions(snakemake.input.index, list(snakemake.input.shards), snakemake.output[0])
