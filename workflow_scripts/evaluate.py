from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.evaluate import summarize_iteration  # noqa: E402

summarize_iteration(
    snakemake.params.iteration,
    {name: path for name, path in snakemake.input.items() if name != "val_pred"},
    snakemake.output.metrics,
    snakemake.output.miou,
)
