from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.pixelnet import predict_pixelnet  # noqa: E402

p = snakemake.params
predict_pixelnet(
    snakemake.input.index,
    snakemake.input.model,
    snakemake.output[0],
    stage=p.stage,
    shard=p.shard,
    n_shards=p.n_shards,
    restrict=p.restrict,
    flip=p.flip,
    device=p.device,
    crf=p.crf,
    threads=snakemake.threads,
)
