from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.evaluate import summarize_saliency  # noqa: E402

summarize_saliency(list(snakemake.input), snakemake.output[0])
