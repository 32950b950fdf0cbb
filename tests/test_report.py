import json

import numpy as np
import pytest
from PIL import Image

from mcof.artifacts import ArtifactWriter
from mcof.report import (plot_class_iou, plot_diagnostics, plot_miou_curves, sample_figure, sample_ids,
                         stage_table)


def diagnostics(recall, precision=90.0):
    scores = {"object_precision": precision, "object_recall": recall, "background_precision": 95.0,
              "labelled_fraction": 80.0, "miou": 50.0}
    return {**scores, "single_class": {"n_images": 8, **scores},
            "multi_class": {"n_images": 4, **scores}}


def write_metrics(path, k, test, train, beta_iou=35.0):
    stages = {stage: diagnostics(recall=40.0 + 5 * k) for stage in train}
    path.write_text(json.dumps({
        "iteration": k, "reported_split": "test", "miou": test, "test_miou": test,
        "val_miou": test + 1.0, "train_miou": train, "train_val_gap": 2.5,
        "train_iou": {stage: {"background": 90.0, "alpha": 50.0, "beta": beta_iou} for stage in train},
        "diagnostics": stages,
        "test_iou": {"background": 90.0, "alpha": test, "beta": None}}))
    return str(path)


@pytest.fixture
def iteration_metrics(tmp_path):
    return [write_metrics(tmp_path / "m1.json", 1, 41.5, {"seeds": 14.3, "regions": 29.1,
                                                         "refined": 34.8, "train_masks": 45.0}),
            write_metrics(tmp_path / "m2.json", 2, 47.25, {"seeds": 44.0, "regions": 48.0,
                                                          "train_masks": 50.0}, beta_iou=12.0)]


def test_stage_table_has_every_stage_iteration_and_diagnostic(iteration_metrics, tiny_index_files,
                                                                tmp_path):
    saliency = tmp_path / "saliency.json"
    saliency.write_text(json.dumps({"max_f_measure": 0.8, "adaptive_f_measure": 0.75, "mae": 0.125}))
    out = tmp_path / "table.html"
    stage_table(iteration_metrics, str(out), train_index=tiny_index_files[0],
                val_index=tiny_index_files[1], saliency=str(saliency))
    page = out.read_text()
    for cell in ("<td>14.3</td>", "<td>34.8</td>", "<b>47.2</b>", "<td>48.2</td>", "<td>-</td>",
                 "MAE 0.125", "12 training and 6 validation images, 3 object classes",
                 "obj. recall", "multi-class images", "<td>50.0</td>",
                 "the fully supervised run is not part of this report"):
        assert cell in page, cell
    assert page.index("<td>1</td>") < page.index("<td>2</td>")


def test_vanishing_classes_are_flagged_against_full_supervision(iteration_metrics, tiny_index_files,
                                                                tmp_path):
    full = write_metrics(tmp_path / "full.json", 1, 60.0, {"train_masks": 70.0}, beta_iou=25.0)
    out = tmp_path / "table.html"
    stage_table(iteration_metrics, str(out), train_index=tiny_index_files[0],
                val_index=tiny_index_files[1], full=[full])
    page = out.read_text()
    # beta: 35 in iteration 1, 12 in every stage of iteration 2, 25 with full supervision
    assert "Vanishing classes (3)" in page
    assert "iteration 2, seeds: beta 12.0 (full supervision 25.0)" in page
    assert "iteration 1" not in page.split("Vanishing classes")[1].split("</ul>")[0]
    full = write_metrics(tmp_path / "full.json", 1, 60.0, {"train_masks": 70.0}, beta_iou=15.0)
    stage_table(iteration_metrics, str(out), train_index=tiny_index_files[0],
                val_index=tiny_index_files[1], full=[full])
    assert "Vanishing classes: none" in out.read_text()


def test_curves_class_bars_and_diagnostics_are_svg(iteration_metrics, tmp_path):
    plot_miou_curves(str(tmp_path / "curve.svg"),
                     runs={"this run": iteration_metrics, "full": iteration_metrics[:1]})
    plot_class_iou(iteration_metrics[1], str(tmp_path / "bars.svg"))
    plot_diagnostics(iteration_metrics, str(tmp_path / "diagnostics.svg"))
    curve = (tmp_path / "curve.svg").read_text()
    assert curve.startswith("<?xml") and "full (41.5)" in curve and "test mIoU" in curve
    assert "test mIoU 47.2" in (tmp_path / "bars.svg").read_text()
    drawn = (tmp_path / "diagnostics.svg").read_text()
    assert "train obj. recall" in drawn and "PixelNet targets" not in drawn and "RegionNet" in drawn


def test_sample_ids_are_spread_and_stable():
    ids = [f"id{i}" for i in range(10)]
    assert sample_ids(ids, 3) == ["id0", "id4", "id9"]
    assert sample_ids(ids, 20) == ids


def test_sample_figure_draws_every_stage(tiny_voc, tiny_truth, tiny_index_files, tmp_path):
    _, train, _ = tiny_voc
    image_id = sample_ids(train.ids, 2)[1]
    h, w = tiny_truth.load(image_id).shape
    sp = np.arange(h * w, dtype=np.int32).reshape(h, w) // (h * w // 4)
    arrays = {
        "superpixels": {"labels": sp, "adjacency": np.array([[0, 1], [1, 2], [2, 3]])},
        "cams": {"cams": np.random.default_rng(0).random((1, h, w)).astype(np.float16)},
        "saliency": {"saliency": np.zeros((h, w), np.float16)},
        "seeds": {"labels": np.array([0, 1, 255, 0], np.uint8)},
        "regions": {"labels": np.array([0, 1, 1, 0], np.uint8)},
        "refined": {"labels": np.array([1, 1, 1, 0], np.uint8)},
        "train_masks": {"mask": np.ones((h, w), np.uint8)},
    }
    paths = {}
    for stage, content in arrays.items():
        paths[stage] = str(tmp_path / f"{stage}.h5")
        with ArtifactWriter(paths[stage], stage) as out:
            out.write(image_id, **content)
    out_png = tmp_path / "sample.png"
    drawn = sample_figure(tiny_index_files[0], str(out_png), sample=1, n_samples=2, n_shards=1,
                          mask_dir=tiny_truth.mask_dir,
                          masks=[paths["train_masks"]] * 2,
                          **{s: [paths[s]] for s in ("cams", "superpixels", "saliency", "seeds",
                                                     "regions", "refined")})
    assert drawn == image_id
    width, height = Image.open(out_png).size
    assert width > 5 * height  # one row: 8 stage tiles and 2 PixelNet iterations
