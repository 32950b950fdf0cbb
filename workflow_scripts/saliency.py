from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.saliency import make_saliency  # noqa: E402

make_saliency(**snakemake.input, out=snakemake.output[0], **snakemake.params)
