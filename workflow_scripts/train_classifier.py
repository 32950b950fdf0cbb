from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.classifier import train_classifier  # noqa: E402

p = snakemake.params
net = p.net
train_classifier(
    snakemake.input.index,
    snakemake.output.model,
    p.checkpoint_dir,
    backbone=net["backbone"],
    weights=net["weights"],
    output_stride=net["output_stride"],
    epochs=net["epochs"],
    batch_size=net["batch_size"],
    lr=net["lr"],
    weight_decay=net["weight_decay"],
    crop=net["crop"],
    scale_range=tuple(net["scale"]),
    seed=p.seed,
    device=p.device,
    threads=snakemake.threads,
    workers=p.workers,
    amp=p.amp,
)
