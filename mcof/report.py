"""Figures and tables of a run for Snakemake's report: curves, the stage table, per-class IoU and
qualitative grids (the paper's Fig. 1b and 4)."""

from __future__ import annotations

import contextlib
import html
from pathlib import Path

import numpy as np

from mcof.artifacts import ArtifactReader
from mcof.data.palette import colorize
from mcof.data.voc import DatasetIndex, GroundTruth
from mcof.files import atomic_path, read_json, write_text
from mcof.layout import (AFFINITY, CAMS, CLASSIFIER, PIXELNET, REFINED, REGIONNET, REGIONS,
                         SALIENCY, SEEDS, SUPERPIXELS, TARGETS, TRAIN_MASKS)
from mcof.superpixels import paint

STAGE_NAMES = {SEEDS: "seeds", REGIONS: "RegionNet", REFINED: "refined", TRAIN_MASKS: "PixelNet"}
"""How the report calls each training-set stage."""
PSEUDO_LABEL_MIOU = "pseudo-label mIoU (train)"
"""The name of the training-set stages' mIoU (train_miou in metrics.json): the labels each stage
hands on, scored against the training images' ground truth."""
NETWORK_NAMES = {CLASSIFIER: "classifier", AFFINITY: "affinity net", REGIONNET: "RegionNet",
                 PIXELNET: "PixelNet"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, out_path: str, **kwargs) -> None:
    with atomic_path(out_path) as tmp:
        fig.savefig(tmp, format=Path(out_path).suffix[1:], **kwargs)


def _load(paths) -> list[dict]:
    return [read_json(p) for p in paths]


def plot_miou_curves(out: str, *, runs: dict[str, list[str]]) -> None:
    """mIoU on the reported split against iteration, one line per run (a single-iteration run,
    the fully supervised upper bound, is a level line)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    longest = max(len(paths) for paths in runs.values())
    split = "val"
    for name, paths in runs.items():
        metrics = _load(paths)
        split = metrics[0]["reported_split"]
        ks = [m["iteration"] for m in metrics]
        vals = [m["miou"] for m in metrics]
        if len(metrics) == 1 and longest > 1:
            ax.axhline(vals[0], linestyle="--", color="grey", label=f"{name} ({vals[0]:.1f})")
        else:
            ax.plot(ks, vals, marker="o", label=name)
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"{split} mIoU (%)")
    ax.set_xticks(range(1, longest + 1))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)


_PAGE = ("<html><head><meta charset='utf-8'><style>body{font-family:sans-serif}"
         "table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #999;"
         "padding:3px 8px;text-align:right}td.flag{background:#f6c6c6}</style></head><body>")


def _cell(value, fmt="{:.1f}") -> str:
    return "<td>-</td>" if value is None or value != value else f"<td>{fmt.format(value)}</td>"


def stage_table(metrics: list[str], out: str, *, train_index: str, val_index: str,
                saliency: str | None = None, full: list[str] = (), cams: list[str] = ()) -> None:
    """HTML page: the pseudo-labels' mIoU on the training set at every stage and the evaluation
    splits' mIoU, one row per iteration (the paper's Table 3); the CAMs' best background
    threshold and mIoU; the diagnostics of every stage per iteration; the classes that vanish;
    the dataset's size, the saliency maps' scores and what the run ran with.

    full: the fully supervised run's metrics.json, when it ran: a class that it segments at
    IoU >= 20 on the training set but a weak stage gets below 20 is flagged.
    cams: cam_metrics.json (mcof.steps.protocols), when the run has CAMs.
    """
    metrics = _load(metrics)
    train, val = DatasetIndex.load(train_index), DatasetIndex.load(val_index)
    notes = [f"Dataset: {len(train.ids)} training and {len(val.ids)} validation images, "
             f"{train.n_classes - 1} object classes; {len(train.no_label_ids)} training image(s) "
             "without labels were skipped in training. Train-set scores count unlabelled "
             "pixels as background for mIoU and as unlabelled for precision, recall and "
             "coverage."]
    if saliency:
        sal = read_json(saliency)
        notes.append(f"Saliency on the training images: max F-measure {sal['max_f_measure']:.3f}, "
                     f"adaptive F-measure {sal['adaptive_f_measure']:.3f}, MAE {sal['mae']:.3f}.")
    splits = [k[:-5] for k in metrics[0] if k.endswith("_miou") and k != "train_miou"]
    cols = [s for s in STAGE_NAMES if any(s in m["train_miou"] for m in metrics)]
    head = (f"<tr><th rowspan=2>iteration</th><th colspan={len(cols)}>{PSEUDO_LABEL_MIOU}</th>"
            f"<th colspan={len(splits)}>PixelNet mIoU</th><th rowspan=2>train - val</th></tr><tr>")
    head += "".join(f"<th>{STAGE_NAMES[c]}</th>" for c in cols)
    head += "".join(f"<th>{s}</th>" for s in splits) + "</tr>"
    rows = []
    for m in metrics:
        cells = "".join(_cell(m["train_miou"].get(c)) for c in cols)
        cells += "".join(
            f"<td><b>{m[f'{s}_miou']:.1f}</b></td>" if s == m["reported_split"] else _cell(m[f"{s}_miou"])
            for s in splits)
        rows.append(f"<tr><td>{m['iteration']}</td>{cells}{_cell(m.get('train_val_gap'))}</tr>")
    page = [_PAGE, "<h3>mIoU (%) per stage and iteration</h3>",
            f"<table>{head}{''.join(rows)}</table>"]
    if cams:
        page.append(cam_table(read_json(cams[0])))
    page += [diagnostics_table(metrics),
             vanished_classes(metrics, _load(full)[0] if full else None)]
    if "run" in metrics[-1]:
        notes.append(run_note(metrics[-1]["run"]))
    page += [f"<p>{html.escape(n)}</p>" for n in notes]
    write_text(out, "".join(page) + "</body></html>\n")


def cam_best(cam_metrics: dict) -> str:
    """'best background threshold 0.25: CAM mIoU 45.3% (train)' (or why there is none)."""
    if cam_metrics.get("no_masks"):
        return "CAM mIoU: the dataset has no masks to score the CAMs with"
    return (f"best background threshold {cam_metrics['best_threshold']:.2f}: CAM mIoU "
            f"{cam_metrics['best_miou']:.1f}% (train)")


def cam_table(cam_metrics: dict) -> str:
    """The CAMs' best background threshold and mIoU on the training set (IRNet / SEAM)."""
    if cam_metrics.get("no_masks"):
        return f"<p>{cam_best(cam_metrics)}.</p>"
    t = cam_metrics["thresholds"]
    return ("<h3>CAMs on the training set</h3><table><tr><th>best background threshold</th>"
            "<th>CAM mIoU (train)</th><th>thresholds swept</th></tr>"
            f"<tr><td>{cam_metrics['best_threshold']:.2f}</td>"
            f"<td><b>{cam_metrics['best_miou']:.1f}</b></td>"
            f"<td>{t[0]:.2f} - {t[-1]:.2f} ({len(t)})</td></tr></table>"
            "<p>Each pixel takes the class of its highest CAM among the image's labels when that "
            "CAM is above the threshold, else background (IRNet, SEAM).</p>")


def run_note(record: dict) -> str:
    """One line of what the last iteration's metrics.json records the run ran with."""
    packages = ", ".join(f"{name} {version}" for name, version in record["packages"].items()
                         if version)
    commit = record.get("git_commit")
    code = (f"commit {commit[:12]}{' with uncommitted changes' if record.get('git_dirty') else ''}"
            if commit else "no git commit (not a git checkout)")
    return (f"Run: {code}; config sha256 {str(record.get('config_sha256'))[:16]}; "
            f"trained on {record.get('device')}; {packages}.")


def plot_cam_thresholds(metrics: str, out: str) -> None:
    """The CAMs' mIoU on the training set against the background threshold, the best point
    marked and named."""
    scores = read_json(metrics)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    if scores.get("no_masks"):
        ax.text(0.5, 0.5, cam_best(scores), ha="center", va="center", wrap=True)
        ax.axis("off")
    else:
        ax.plot(scores["thresholds"], scores["miou"], marker="o", markersize=3)
        best_t, best = scores["best_threshold"], scores["best_miou"]
        ax.axvline(best_t, color="grey", linestyle="--", linewidth=1)
        ax.plot([best_t], [best], marker="*", markersize=14, color="#c44e52",
                label=f"best: threshold {best_t:.2f}, mIoU {best:.1f}")
        ax.set_xlabel("background threshold")
        ax.set_ylabel("CAM mIoU on the training set (%)")
        ax.set_title(cam_best(scores), fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)


def plot_training(out: str, *, trainings: list[list]) -> None:
    """Per-epoch loss, accuracy and learning rate of every training (mcof.training.history):
    one row per network, one line per iteration.

    trainings: [network, iteration (None for the classifier and the affinity net), CSV path].
    """
    from matplotlib.ticker import MaxNLocator

    from mcof.training.history import read_history

    networks = [n for n in NETWORK_NAMES if any(t[0] == n for t in trainings)]
    plt = _pyplot()
    fig, axes = plt.subplots(len(networks), 3, figsize=(12, 2.6 * len(networks)), squeeze=False)
    for row, network in zip(axes, networks):
        for _, k, path in (t for t in trainings if t[0] == network):
            rows = read_history(path)
            epochs = [r["epoch"] for r in rows]
            label = NETWORK_NAMES[network] if k is None else f"iteration {k}"
            for ax, key in zip(row, ("loss", "accuracy", "lr")):
                values = [r[key] for r in rows]
                if any(v is not None for v in values):
                    ax.plot(epochs, [v if v is not None else float("nan") for v in values],
                            marker="o", markersize=3, label=label)
        for ax, title in zip(row, ("loss", "accuracy", "learning rate")):
            ax.set_title(f"{NETWORK_NAMES[network]}: {title}", fontsize=10)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
        row[0].legend(fontsize=8)
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)


DIAGNOSTIC_NAMES = {"object_precision": "obj. prec.", "object_recall": "obj. recall",
                    "background_precision": "bg prec.", "labelled_fraction": "coverage",
                    "miou": "mIoU"}
DIAGNOSED_STAGES = {**STAGE_NAMES, TARGETS: "PixelNet targets"}


def diagnostics_table(metrics: list[dict]) -> str:
    """Per iteration and training-set stage: object precision and recall, background precision,
    coverage and mIoU, over all images and over single- and multi-class images apart (%)."""
    groups = (("all", None), ("single-class", "single_class"), ("multi-class", "multi_class"))
    head = "<tr><th rowspan=2>iteration</th><th rowspan=2>stage</th>" + "".join(
        f"<th colspan={len(DIAGNOSTIC_NAMES)}>{title} images</th>" for title, _ in groups) + "</tr><tr>"
    head += "".join(f"<th>{name}</th>" for _ in groups for name in DIAGNOSTIC_NAMES.values()) + "</tr>"
    rows = []
    for m in metrics:
        for stage, title in DIAGNOSED_STAGES.items():
            d = m.get("diagnostics", {}).get(stage)
            if d is None:
                continue
            cells = "".join(_cell((d if key is None else d[key]).get(name))
                            for _, key in groups for name in DIAGNOSTIC_NAMES)
            rows.append(f"<tr><td>{m['iteration']}</td><td>{title}</td>{cells}</tr>")
    return ("<h3>Diagnostics of the training-set stages (%)</h3>"
            f"<table>{head}{''.join(rows)}</table>")


VANISHING_IOU = 20.0


def vanished_classes(metrics: list[dict], full: dict | None) -> str:
    """HTML list of every (iteration, stage, class) whose train IoU is below 20 while the fully
    supervised PixelNet segments the class at 20 or more on the training set."""
    if full is None:
        return "<p>Vanishing classes: the fully supervised run is not part of this report.</p>"
    reference = full["train_iou"][TRAIN_MASKS]
    found = []
    for m in metrics:
        for stage in (SEEDS, REGIONS, REFINED, TRAIN_MASKS):
            for name, value in m.get("train_iou", {}).get(stage, {}).items():
                if name == "background" or reference.get(name) is None:
                    continue
                if reference[name] >= VANISHING_IOU and (value or 0.0) < VANISHING_IOU:
                    found.append(f"iteration {m['iteration']}, {STAGE_NAMES[stage]}: {name} "
                                 f"{value or 0.0:.1f} (full supervision {reference[name]:.1f})")
    if not found:
        return ("<p>Vanishing classes: none. Every class the fully supervised PixelNet segments "
                f"at IoU &ge; {VANISHING_IOU:.0f} on the training set keeps IoU &ge; "
                f"{VANISHING_IOU:.0f} in every weak stage.</p>")
    items = "".join(f"<li class='flag'>{html.escape(f)}</li>" for f in found)
    return (f"<h3 style='color:#b00'>Vanishing classes ({len(found)})</h3><ul>{items}</ul>")


def plot_diagnostics(metrics: list[str], out: str) -> None:
    """Object recall, object precision, coverage and mIoU of every training-set stage against
    the iteration: where objects erode or grow is seen at a glance."""
    metrics = _load(metrics)
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(DIAGNOSTIC_NAMES) - 1, figsize=(13, 3.4), sharex=True)
    for ax, key in zip(axes, ("object_recall", "object_precision", "labelled_fraction", "miou")):
        for stage, title in DIAGNOSED_STAGES.items():
            points = [(m["iteration"], m["diagnostics"][stage][key]) for m in metrics
                      if stage in m.get("diagnostics", {})]
            if points:
                ks, vals = zip(*points)
                ax.plot(ks, vals, marker="o", label=title)
        ax.set_title(f"train {DIAGNOSTIC_NAMES[key]} (%)", fontsize=10)
        ax.set_xlabel("iteration")
        ax.set_xticks([m["iteration"] for m in metrics])
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)


def plot_class_iou(metrics: str, out: str) -> None:
    """Bar chart of the class IoU on the reported split in one iteration."""
    metrics = read_json(metrics)
    split = metrics["reported_split"]
    names = list(metrics[f"{split}_iou"])
    values = [metrics[f"{split}_iou"][n] or 0.0 for n in names]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(5, 0.45 * len(names) + 2), 4))
    ax.bar(range(len(names)), values, color="#4c72b0")
    ax.set_xticks(range(len(names)), names, rotation=60, ha="right")
    ax.set_ylabel(f"{split} IoU (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"iteration {metrics['iteration']}: {split} mIoU {metrics['miou']:.1f}")
    fig.tight_layout()
    _save(fig, out)
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


def qualitative_grid(index_path: str, image_id: str, out_path: str, *, mask_dir: str | None,
                     cams: list[str], superpixels: list[str], saliency: list[str],
                     seeds: list[str], regions: list[str], refined: list[str],
                     masks: list[list[str]]) -> None:
    """One row of tiles for one training image: image, ground truth, CAM, superpixels, seeds,
    RegionNet regions, saliency, refined regions and PixelNet masks of every iteration.

    Stage arguments are shard files; refined may be empty (no saliency refinement);
    masks[k] holds iteration k+1's train_masks shards; mask_dir None: no ground-truth tile.
    """
    index = DatasetIndex.load(index_path)
    image = index.load_image(image_id)
    with contextlib.ExitStack() as stack:
        def read(paths, stage, name):
            return stack.enter_context(ArtifactReader(paths, stage)).read(image_id, name)

        sp = read(superpixels, SUPERPIXELS, "labels").astype(np.int64)
        cam = read(cams, CAMS, "cams").astype(np.float32)
        truth = GroundTruth(mask_dir, index.n_classes).load(image_id) if mask_dir else None
        tiles = [("image", image),
                 *([("ground truth", colorize(truth))] if truth is not None else []),
                 ("CAM", _heat(cam.max(axis=0) if len(cam) else np.zeros(sp.shape))),
                 ("superpixels", _boundaries(image, sp)),
                 ("seeds", colorize(paint(sp, read(seeds, SEEDS, "labels")))),
                 ("RegionNet", colorize(paint(sp, read(regions, REGIONS, "labels")))),
                 ("saliency", _heat(read(saliency, SALIENCY, "saliency").astype(np.float32)))]
        if refined:
            tiles.append(("refined", colorize(paint(sp, read(refined, REFINED, "labels")))))
        for k, paths in enumerate(masks, start=1):
            tiles.append((f"PixelNet {k}", colorize(read(paths, TRAIN_MASKS, "mask"))))
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(tiles), figsize=(1.6 * len(tiles), 2.0))
    for ax, (title, tile) in zip(np.atleast_1d(axes), tiles):
        ax.imshow(tile, interpolation="nearest")
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    labels = ", ".join(index.classes[c] for c in index.labels[image_id]) or "no labels"
    fig.suptitle(f"{image_id}: {labels}", fontsize=9)
    fig.tight_layout()
    _save(fig, out_path, dpi=100)
    plt.close(fig)


def sample_figure(index: str, out: str, *, sample: int, n_samples: int, n_shards: int,
                  masks: list[str], **stages: list[str]) -> str:
    """The qualitative grid of the sample-th of n_samples evenly spread training images.

    masks: every iteration's train_masks shards, iteration 1 first (n_shards each).
    Returns the image id drawn.
    """
    ids = sample_ids(DatasetIndex.load(index).ids, n_samples)
    image_id = ids[sample]
    per_iteration = [masks[i:i + n_shards] for i in range(0, len(masks), n_shards)]
    qualitative_grid(index, image_id, out, masks=per_iteration, **stages)
    return image_id
