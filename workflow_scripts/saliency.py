from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.saliency import make_saliency  # noqa: E402

p = snakemake.params
make_saliency(
    snakemake.input.index,
    snakemake.output[0],
    shard=p.shard,
    n_shards=p.n_shards,
    method=p.method,
    external_dir=p.external_dir,
    pixels_per_region=p.pixels_per_region,
    compactness=p.compactness,
)
