from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.dataset import prepare_embedded  # noqa: E402

prepare_embedded(out=snakemake.output[0], **snakemake.params)
