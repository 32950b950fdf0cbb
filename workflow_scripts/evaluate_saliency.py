from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.evaluate import evaluate_saliency  # noqa: E402

evaluate_saliency(**snakemake.input, out=snakemake.output[0], **snakemake.params)
