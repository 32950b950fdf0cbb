from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.superpixels import make_superpixels  # noqa: E402

make_superpixels(**snakemake.input, out=snakemake.output[0], **snakemake.params)
