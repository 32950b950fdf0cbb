from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.report import sample_figure  # noqa: E402

i = snakemake.input
sample_figure(
    i.index,
    snakemake.params.sample,
    snakemake.params.n_samples,
    snakemake.output[0],
    n_shards=snakemake.params.n_shards,
    masks=list(i.masks),
    cams=list(i.cams),
    superpixels=list(i.superpixels),
    saliency=list(i.saliency),
    seeds=list(i.seeds),
    regions=list(i.regions),
    refined=list(i.refined),
)
