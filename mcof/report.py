"""Figures and tables of a run for Snakemake's report: curves, the stage table, per-class IoU and
qualitative grids (the paper's Fig. 1b and 4)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from mcof.artifacts import ArtifactReader
from mcof.data.palette import colorize
from mcof.data.voc import DatasetIndex
from mcof.seeds import paint

STAGE_NAMES = {"seeds": "seeds", "regions": "RegionNet", "refined": "refined",
               "train_masks": "PixelNet"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _load(paths) -> list[dict]:
    return [json.loads(Path(p).read_text()) for p in paths]


def plot_miou_curves(runs: dict[str, list[str]], out_path: str) -> None:
    """Val mIoU against iteration, one line per run (a single-iteration run is a level line)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    longest = max(len(paths) for paths in runs.values())
    for name, paths in runs.items():
        metrics = _load(paths)
        ks = [m["iteration"] for m in metrics]
        vals = [m["val_miou"] for m in metrics]
        if len(metrics) == 1 and longest > 1:
            ax.axhline(vals[0], linestyle="--", color="grey", label=f"{name} ({vals[0]:.1f})")
        else:
            ax.plot(ks, vals, marker="o", label=name)
    ax.set_xlabel("iteration")
    ax.set_ylabel("val mIoU (%)")
    ax.set_xticks(range(1, longest + 1))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_path)
    plt.close(fig)


def stage_table(metric_paths: list[str], out_path: str, *, train_index: str, val_index: str,
                saliency_metrics: str | None = None) -> None:
    """HTML table: train mIoU of every stage and val mIoU, one row per iteration (Table 3),
    with the dataset's size and the saliency maps' scores below it."""
    metrics = _load(metric_paths)
    train, val = DatasetIndex.load(train_index), DatasetIndex.load(val_index)
    notes = [f"Dataset: {len(train.ids)} training and {len(val.ids)} validation images, "
             f"{train.n_classes - 1} object classes; {len(train.no_label_ids)} training image(s) "
             "without labels were skipped in training."]
    if saliency_metrics:
        sal = json.loads(Path(saliency_metrics).read_text())
        notes.append(f"Saliency on the training images: max F-measure {sal['max_f_measure']:.3f}, "
                     f"adaptive F-measure {sal['adaptive_f_measure']:.3f}, MAE {sal['mae']:.3f}.")
    cols = [s for s in STAGE_NAMES if any(s in m["train_miou"] for m in metrics)]
    head = "".join(f"<th>{STAGE_NAMES[c]} (train)</th>" for c in cols) + "<th>PixelNet (val)</th>"
    rows = []
    for m in metrics:
        cells = "".join(
            f"<td>{m['train_miou'][c]:.1f}</td>" if c in m["train_miou"] else "<td>-</td>" for c in cols)
        rows.append(f"<tr><td>{m['iteration']}</td>{cells}<td><b>{m['val_miou']:.1f}</b></td></tr>")
    Path(out_path).write_text(
        "<html><head><meta charset='utf-8'><style>body{font-family:sans-serif}"
        "table{border-collapse:collapse}td,th{border:1px solid #999;padding:4px 10px;"
        "text-align:right}</style></head><body><h3>mIoU (%) per stage and iteration</h3>"
        f"<table><tr><th>iteration</th>{head}</tr>{''.join(rows)}</table>"
        + "".join(f"<p>{html.escape(n)}</p>" for n in notes) + "</body></html>\n")


def plot_class_iou(metrics_path: str, out_path: str) -> None:
    """Bar chart of the val IoU of each class in one iteration."""
    metrics = json.loads(Path(metrics_path).read_text())
    names = list(metrics["val_iou"])
    values = [metrics["val_iou"][n] or 0.0 for n in names]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(5, 0.45 * len(names) + 2), 4))
    ax.bar(range(len(names)), values, color="#4c72b0")
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right")
    ax.set_ylabel("val IoU (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"iteration {metrics['iteration']}: mIoU {metrics['val_miou']:.1f}")
    fig.tight_layout()
    fig.savefig(out_path)
    plt.close(fig)


def sample_ids(ids: list[str], n: int) -> list[str]:
    """n ids spread evenly over the list: the same sample in every report of a dataset."""
    if n >= len(ids):
        return list(ids)
    return [ids[round(i * (len(ids) - 1) / max(n - 1, 1))] for i in range(n)]


def _boundaries(image: np.ndarray, labels: np.ndarray) -> np.ndarray:
    from skimage.segmentation import mark_boundaries

    return (mark_boundaries(image, labels, color=(1, 1, 0)) * 255).astype(np.uint8)


def _heat(values: np.ndarray) -> np.ndarray:
    from matplotlib import colormaps

    return (colormaps["jet"](np.clip(values, 0, 1))[..., :3] * 255).astype(np.uint8)


def qualitative_grid(index_path: str, image_id: str, out_path: str, *, cams: list[str],
                     superpixels: list[str], saliency: list[str], seeds: list[str],
                     regions: list[str], refined: list[str], masks: list[list[str]]) -> None:
    """One row of tiles for one training image: image, ground truth, CAM, superpixels, seeds,
    RegionNet regions, saliency, refined regions and PixelNet masks of every iteration.

    Stage arguments are shard files; refined may be empty (no saliency refinement);
    masks[k] holds iteration k+1's train_masks shards.
    """
    index = DatasetIndex.load(index_path)
    image = index.load_image(image_id)
    readers = []

    def read(paths, stage, name):
        reader = ArtifactReader(paths, stage)
        readers.append(reader)
        return reader.read(image_id, name)

    try:
        sp = read(superpixels, "superpixels", "labels").astype(np.int64)
        cam = read(cams, "cams", "cams").astype(np.float32)
        tiles = [("image", image), ("ground truth", colorize(index.load_mask(image_id))),
                 ("CAM", _heat(cam.max(axis=0) if len(cam) else np.zeros(sp.shape))),
                 ("superpixels", _boundaries(image, sp)),
                 ("seeds", colorize(paint(sp, read(seeds, "seeds", "labels")))),
                 ("RegionNet", colorize(paint(sp, read(regions, "regions", "labels")))),
                 ("saliency", _heat(read(saliency, "saliency", "saliency").astype(np.float32)))]
        if refined:
            tiles.append(("refined", colorize(paint(sp, read(refined, "refined", "labels")))))
        for k, paths in enumerate(masks, start=1):
            tiles.append((f"PixelNet {k}", colorize(read(paths, "train_masks", "mask"))))
    finally:
        for reader in readers:
            reader.close()
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(tiles), figsize=(1.6 * len(tiles), 2.0))
    for ax, (title, tile) in zip(np.atleast_1d(axes), tiles):
        ax.imshow(tile, interpolation="nearest")
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    labels = ", ".join(index.classes[c] for c in index.labels[image_id]) or "no labels"
    fig.suptitle(f"{image_id}: {labels}", fontsize=9)
    fig.tight_layout()
    fig.savefig(out_path, dpi=100)
    plt.close(fig)


def sample_figure(index_path: str, sample: int, n_samples: int, out_path: str, *, n_shards: int,
                  masks: list[str], **stages: list[str]) -> str:
    """The qualitative grid of the sample-th of n_samples evenly spread training images.

    masks: every iteration's train_masks shards, iteration 1 first (n_shards each).
    Returns the image id drawn.
    """
    ids = sample_ids(DatasetIndex.load(index_path).ids, n_samples)
    image_id = ids[sample]
    per_iteration = [masks[i:i + n_shards] for i in range(0, len(masks), n_shards)]
    qualitative_grid(index_path, image_id, out_path, masks=per_iteration, **stages)
    return image_id
