from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.pixelnet import train_pixelnet  # noqa: E402

p, net = snakemake.params, snakemake.params.net
train_pixelnet(
    snakemake.input.index,
    snakemake.output.model,
    p.checkpoint_dir,
    target=p.target,
    label_paths=list(snakemake.input.labels),
    label_stage=p.label_stage,
    superpixel_paths=list(snakemake.input.superpixels),
    arch=net["arch"],
    weights=net["weights"],
    classifier_path=snakemake.input.classifier[0] if snakemake.input.classifier else None,
    previous_path=snakemake.input.previous[0] if snakemake.input.previous else None,
    epochs=net["epochs"],
    batch_size=net["batch_size"],
    lr=net["lr"],
    weight_decay=net["weight_decay"],
    crop=net["crop"],
    scale_range=tuple(net["scale"]),
    min_confidence=net["min_label_confidence"],
    seed=p.seed,
    device=p.device,
    threads=snakemake.threads,
    workers=p.workers,
    amp=p.amp,
)
