from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.evaluate import shard_confusion  # noqa: E402

p = snakemake.params
shard_confusion(
    snakemake.input.index,
    snakemake.input.labels,
    snakemake.wildcards.stage,
    snakemake.output[0],
    shard=p.shard,
    n_shards=p.n_shards,
    superpixels_path=snakemake.input.superpixels or None,
)
