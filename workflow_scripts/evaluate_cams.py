from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.protocols import evaluate_cams  # noqa: E402

evaluate_cams(**snakemake.input, out=snakemake.output[0], **snakemake.params)
