from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.evaluate import evaluate_targets  # noqa: E402

evaluate_targets(**snakemake.input, out=snakemake.output[0], **snakemake.params)
