from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.dataset import prepare_synthetic  # noqa: E402

prepare_synthetic(snakemake.output[0], **snakemake.params.spec)
