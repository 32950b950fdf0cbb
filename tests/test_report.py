import json

import numpy as np
import pytest
from PIL import Image

from mcof.artifacts import ArtifactWriter
from mcof.report import plot_class_iou, plot_miou_curves, sample_figure, sample_ids, stage_table


def write_metrics(path, k, val, train):
    path.write_text(json.dumps({"iteration": k, "val_miou": val, "train_miou": train,
                                "val_iou": {"background": 90.0, "alpha": val, "beta": None}}))
    return str(path)


@pytest.fixture
def iteration_metrics(tmp_path):
    return [write_metrics(tmp_path / "m1.json", 1, 41.5, {"seeds": 14.3, "regions": 29.1,
                                                         "refined": 34.8, "train_masks": 45.0}),
            write_metrics(tmp_path / "m2.json", 2, 47.25, {"seeds": 44.0, "regions": 48.0,
                                                          "train_masks": 50.0})]


def test_stage_table_has_every_stage_and_iteration(iteration_metrics, tiny_index_files, tmp_path):
    saliency = tmp_path / "saliency.json"
    saliency.write_text(json.dumps({"max_f_measure": 0.8, "adaptive_f_measure": 0.75, "mae": 0.125}))
    out = tmp_path / "table.html"
    stage_table(iteration_metrics, str(out), train_index=tiny_index_files[0],
                val_index=tiny_index_files[1], saliency_metrics=str(saliency))
    page = out.read_text()
    for cell in ("<td>14.3</td>", "<td>34.8</td>", "<b>47.2</b>", "<td>-</td>", "MAE 0.125",
                 "12 training and 6 validation images, 3 object classes"):
        assert cell in page, cell
    assert page.index("<td>1</td>") < page.index("<td>2</td>")


def test_curves_and_class_bars_are_svg(iteration_metrics, tmp_path):
    plot_miou_curves({"this run": iteration_metrics, "full": iteration_metrics[:1]},
                     str(tmp_path / "curve.svg"))
    plot_class_iou(iteration_metrics[1], str(tmp_path / "bars.svg"))
    curve = (tmp_path / "curve.svg").read_text()
    assert curve.startswith("<?xml") and "full (41.5)" in curve
    assert "mIoU 47.2" in (tmp_path / "bars.svg").read_text()


def test_sample_ids_are_spread_and_stable():
    ids = [f"id{i}" for i in range(10)]
    assert sample_ids(ids, 3) == ["id0", "id4", "id9"]
    assert sample_ids(ids, 20) == ids


def test_sample_figure_draws_every_stage(tiny_voc, tiny_index_files, tmp_path):
    _, train, _ = tiny_voc
    image_id = sample_ids(train.ids, 2)[1]
    h, w = train.load_mask(image_id).shape
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
    drawn = sample_figure(tiny_index_files[0], 1, 2, str(out_png), n_shards=1,
                          masks=[paths["train_masks"]] * 2,
                          **{s: [paths[s]] for s in ("cams", "superpixels", "saliency", "seeds",
                                                     "regions", "refined")})
    assert drawn == image_id
    width, height = Image.open(out_png).size
    assert width > 5 * height  # one row: 8 stage tiles and 2 PixelNet iterations
