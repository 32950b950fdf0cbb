from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.seeds import make_mask_seeds  # noqa: E402

p = snakemake.params
make_mask_seeds(
    snakemake.input.index,
    snakemake.input.masks,
    snakemake.input.superpixels,
    snakemake.output[0],
    shard=p.shard,
    n_shards=p.n_shards,
    min_confidence=p.min_confidence,
    min_share=p.min_share,
    cam_seeds_path=snakemake.input.cam_seeds or None,
)
