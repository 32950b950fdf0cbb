from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.dataset import index_coco  # noqa: E402

index_coco(**snakemake.input, **snakemake.output, **snakemake.params)
