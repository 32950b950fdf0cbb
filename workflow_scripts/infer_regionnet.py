from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.regionnet import infer_regionnet  # noqa: E402

p = snakemake.params
infer_regionnet(
    snakemake.input.index,
    snakemake.input.model,
    snakemake.input.superpixels,
    snakemake.input.seeds,
    snakemake.output[0],
    shard=p.shard,
    n_shards=p.n_shards,
    seed_override=p.seed_override,
    device=p.device,
    threads=snakemake.threads,
)
