from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.regionnet import infer_regionnet  # noqa: E402

infer_regionnet(**snakemake.input, out=snakemake.output[0], **snakemake.params, threads=snakemake.threads)
