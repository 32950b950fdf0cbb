from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.refine import make_refined  # noqa: E402

p = snakemake.params
make_refined(
    snakemake.input.index,
    snakemake.input.superpixels,
    snakemake.input.regions,
    snakemake.input.saliency,
    snakemake.output[0],
    shard=p.shard,
    n_shards=p.n_shards,
    threshold=p.threshold,
    keep_object=p.keep_object,
    bins_per_channel=p.bins_per_channel,
)
