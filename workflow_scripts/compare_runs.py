from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.evaluate import compare_runs  # noqa: E402

compare_runs(**snakemake.input, out=snakemake.output[0], **snakemake.params)
