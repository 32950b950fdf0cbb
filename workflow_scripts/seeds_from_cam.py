from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.seeds import make_cam_seeds  # noqa: E402

p = snakemake.params
make_cam_seeds(
    snakemake.input.index,
    snakemake.input.cams,
    snakemake.input.superpixels,
    snakemake.output[0],
    shard=p.shard,
    n_shards=p.n_shards,
    object_threshold=p.object_threshold,
    local_max_min=p.local_max_min,
    background_threshold=p.background_threshold,
)
