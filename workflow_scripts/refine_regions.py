from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.refine import make_refined  # noqa: E402

make_refined(**snakemake.input, out=snakemake.output[0], **snakemake.params)
