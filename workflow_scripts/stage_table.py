from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.report import stage_table  # noqa: E402

stage_table(
    list(snakemake.input.metrics),
    snakemake.output[0],
    train_index=snakemake.input.train_index,
    val_index=snakemake.input.val_index,
    saliency_metrics=snakemake.input.saliency,
)
