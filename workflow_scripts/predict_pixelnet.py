from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.pixelnet import predict_pixelnet  # noqa: E402

predict_pixelnet(**snakemake.input, out=snakemake.output[0], **snakemake.params, threads=snakemake.threads)
