from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.evaluate import shard_saliency_scores  # noqa: E402

p = snakemake.params
shard_saliency_scores(
    snakemake.input.index,
    snakemake.input.saliency,
    snakemake.output[0],
    shard=p.shard,
    n_shards=p.n_shards,
)
