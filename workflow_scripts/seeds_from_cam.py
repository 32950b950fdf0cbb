from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.seeds import make_cam_seeds  # noqa: E402

make_cam_seeds(**snakemake.input, out=snakemake.output[0], **snakemake.params)
