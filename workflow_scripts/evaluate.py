from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.evaluate import summarize_iteration  # noqa: E402

stage_metrics = {name: path for name, path in snakemake.input.items()
                 if name not in ("pngs", "trainings")}
summarize_iteration(stage_metrics, **snakemake.output, **snakemake.params,
                    trainings=snakemake.input.trainings)
