from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.regionnet import train_regionnet  # noqa: E402

p, net = snakemake.params, snakemake.params.net
train_regionnet(
    snakemake.input.index,
    list(snakemake.input.superpixels),
    list(snakemake.input.seeds),
    snakemake.output.model,
    p.checkpoint_dir,
    backbone=net["backbone"],
    weights=net["weights"],
    classifier_path=snakemake.input.classifier[0] if snakemake.input.classifier else None,
    pooled=p.pooled,
    loss_weighting=net["loss_weighting"],
    hidden=net["hidden"],
    epochs=net["epochs"],
    batch_size=net["batch_size"],
    lr=net["lr"],
    weight_decay=net["weight_decay"],
    scale_range=tuple(net["scale"]),
    seed=p.seed,
    device=p.device,
    threads=snakemake.threads,
    workers=p.workers,
    amp=p.amp,
)
