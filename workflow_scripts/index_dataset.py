from mcof.logs import log_to_file

log_to_file(snakemake.log[0])

from mcof.steps.dataset import dataset_classes, index_dataset  # noqa: E402

p = snakemake.params
index_dataset(
    root=p.root,
    split=snakemake.wildcards.split,
    list_path=p.list_path,
    mask_dir=p.mask_dir,
    classes=dataset_classes(p.source, p.n_synthetic_classes, p.classes),
    out_path=snakemake.output[0],
    check_images=p.check_images,
)
