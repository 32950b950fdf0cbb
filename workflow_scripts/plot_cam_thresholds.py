from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.report import plot_cam_thresholds  # noqa: E402

plot_cam_thresholds(**snakemake.input, out=snakemake.output[0])
