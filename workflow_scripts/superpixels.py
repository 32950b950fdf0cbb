from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.superpixels import make_superpixels  # noqa: E402

p = snakemake.params
make_superpixels(
    snakemake.input.index,
    snakemake.output[0],
    shard=p.shard,
    n_shards=p.n_shards,
    scale=p.scale,
    sigma=p.sigma,
    min_size=p.min_size,
)
