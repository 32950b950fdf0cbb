from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.crf import make_crf_labels  # noqa: E402

make_crf_labels(**snakemake.input, out=snakemake.output[0], **snakemake.params, threads=snakemake.threads)
