from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.classifier import make_cams  # noqa: E402

make_cams(**snakemake.input, out=snakemake.output[0], **snakemake.params, threads=snakemake.threads)
