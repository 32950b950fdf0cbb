import json

import numpy as np
import pytest
from PIL import Image

from mcof.artifacts import ArtifactWriter
from mcof.report import (PSEUDO_LABEL_MIOU, plot_cam_thresholds, plot_class_iou, plot_diagnostics,
                         plot_miou_curves, plot_training, sample_figure, sample_ids, stage_table)
from mcof.training.history import write_history


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


CAM_SWEEP = {"stage": "cams", "split": "train", "n_images": 12, "thresholds": [0.05, 0.1, 0.15],
             "miou": [30.0, 41.25, 38.0], "best_threshold": 0.1, "best_miou": 41.25,
             "best_iou": {"background": 70.0, "alpha": 30.0, "beta": 23.75}}


def test_cam_threshold_curve_names_the_best_threshold_and_miou(tmp_path):
    (tmp_path / "cam.json").write_text(json.dumps(CAM_SWEEP))
    plot_cam_thresholds(str(tmp_path / "cam.json"), str(tmp_path / "cam.svg"))
    drawn = (tmp_path / "cam.svg").read_text()
    assert "best background threshold 0.10: CAM mIoU 41.2% (train)" in drawn
    assert "best: threshold 0.10, mIoU 41.2" in drawn and "background threshold" in drawn
    (tmp_path / "none.json").write_text(json.dumps({"stage": "cams", "split": "train",
                                                    "no_masks": True}))
    plot_cam_thresholds(str(tmp_path / "none.json"), str(tmp_path / "none.svg"))
    assert "no masks" in (tmp_path / "none.svg").read_text()


def test_stage_table_names_pseudo_labels_and_shows_the_cams_and_the_run(iteration_metrics,
                                                                         tiny_index_files, tmp_path):
    (tmp_path / "cam.json").write_text(json.dumps(CAM_SWEEP))
    last = json.loads(open(iteration_metrics[1]).read())
    last["run"] = {"packages": {"python": "3.11.7", "torch": "2.14.1", "snakemake": None},
                   "device": "NVIDIA H100 80GB HBM3 (CUDA 12.4)", "git_commit": "0123456789abcdef",
                   "git_dirty": True, "config_sha256": "f" * 64}
    open(iteration_metrics[1], "w").write(json.dumps(last))
    out = tmp_path / "table.html"
    stage_table(iteration_metrics, str(out), train_index=tiny_index_files[0],
                val_index=tiny_index_files[1], cams=[str(tmp_path / "cam.json")])
    page = out.read_text()
    assert f"<th colspan=4>{PSEUDO_LABEL_MIOU}</th>" in page
    assert "<tr><td>0.10</td><td><b>41.2</b></td><td>0.05 - 0.15 (3)</td></tr>" in page
    assert ("Run: commit 0123456789ab with uncommitted changes; config sha256 ffffffffffffffff; "
            "trained on NVIDIA H100 80GB HBM3 (CUDA 12.4); python 3.11.7, torch 2.14.1.") in page


def test_training_curves_have_a_row_per_network_and_a_line_per_iteration(tmp_path):
    def history(name, losses, accuracy=True):
        rows = [{"epoch": e, "loss": loss, "lr": 0.01 / e, "seconds": 1.0, "device": "CPU: x",
                 **({"accuracy": 0.5 + 0.1 * e} if accuracy else {})}
                for e, loss in enumerate(losses, start=1)]
        write_history(tmp_path / name, rows)
        return str(tmp_path / name)

    trainings = [["classifier", None, history("c.csv", [0.7, 0.5])],
                 ["affinity", None, history("a.csv", [0.9, 0.8], accuracy=False)],
                 ["regionnet", 1, history("r1.csv", [1.2, 0.9])],
                 ["pixelnet", 1, history("p1.csv", [1.5, 1.1])],
                 ["pixelnet", 2, history("p2.csv", [1.0, 0.8])]]
    plot_training(str(tmp_path / "training.svg"), trainings=trainings)
    drawn = (tmp_path / "training.svg").read_text()
    for title in ("classifier: loss", "affinity net: accuracy", "RegionNet: learning rate",
                  "PixelNet: loss", "iteration 2"):
        assert title in drawn, title
    assert "iteration 3" not in drawn
