from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.dataset import index_dataset  # noqa: E402

index_dataset(**snakemake.input, out=snakemake.output[0], **snakemake.params)
