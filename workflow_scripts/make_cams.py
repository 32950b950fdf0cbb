from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.classifier import make_cams  # noqa: E402

p = snakemake.params
make_cams(
    snakemake.input.index,
    snakemake.input.model,
    snakemake.output[0],
    shard=p.shard,
    n_shards=p.n_shards,
    scales=list(p.scales),
    flip=p.flip,
    device=p.device,
    threads=snakemake.threads,
)
