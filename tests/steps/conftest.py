"""The step layer on tiny artifacts: every mcof.steps function run directly, in the workflow's
order, on the tiny dataset of tests/conftest.py (12 + 6 images, 48 px, 3 classes)."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_NET = dict(epochs=1, batch_size=4, lr=0.01, weight_decay=5e-4, seed=0, device="cpu")


@pytest.fixture(scope="session")
def chain(tiny_voc, tiny_index_files, tmp_path_factory) -> dict[str, str]:
    """Paths of every artifact of iteration 1 and the start of iteration 2, made by the steps."""
    from mcof.steps.classifier import make_cams, train_classifier
    from mcof.steps.pixelnet import predict_pixelnet, train_pixelnet
    from mcof.steps.refine import make_refined
    from mcof.steps.regionnet import infer_regionnet, train_regionnet
    from mcof.steps.saliency import make_saliency
    from mcof.steps.seeds import make_cam_seeds
    from mcof.steps.superpixels import make_superpixels

    root, _, _ = tiny_voc
    out = tmp_path_factory.mktemp("chain")
    p = {"index": tiny_index_files[0], "val_index": tiny_index_files[1],
         "mask_dir": str(Path(root) / "SegmentationClass")}
    p.update({name: str(out / f"{name}.h5") for name in
              ("cams", "superpixels", "saliency", "seeds", "regions", "refined", "train_masks",
               "val_masks")})
    p.update(classifier=str(out / "classifier.pt"), regionnet=str(out / "regionnet.pt"),
             pixelnet=str(out / "pixelnet.pt"))
    shard = dict(shard=0, n_shards=1)
    train_classifier(p["index"], p["classifier"], checkpoint_dir=str(out / "ck_c"), backbone="tiny",
                     weights="none", output_stride=4, crop=48, scale=[0.9, 1.1], **TINY_NET)
    make_cams(p["index"], p["classifier"], p["cams"], scales=[1.0], flip=True, device="cpu", **shard)
    make_superpixels(p["index"], p["superpixels"], scale=60, sigma=0.6, min_size=10, **shard)
    make_saliency(p["index"], p["saliency"], method="rbd", external_dir=None, pixels_per_region=40,
                  compactness=10, **shard)
    make_cam_seeds(p["index"], p["cams"], p["superpixels"], p["seeds"], object_threshold=0.7,
                   local_max_min=0.5, background_threshold=0.1, keep_every_class=True, **shard)
    train_regionnet(p["index"], [p["superpixels"]], [p["seeds"]], p["regionnet"],
                    init=[p["classifier"]], checkpoint_dir=str(out / "ck_r"), backbone="tiny",
                    weights="none", pooled="both", loss_weighting="area", hidden=32,
                    scale=[0.9, 1.1], **TINY_NET)
    infer_regionnet(p["index"], p["regionnet"], p["superpixels"], p["seeds"], p["regions"],
                    seed_override=0.9, keep_every_class=True, device="cpu", **shard)
    make_refined(p["index"], p["superpixels"], p["regions"], p["saliency"], p["refined"],
                 threshold=0.5, keep_object=None, bins_per_channel=8, **shard)
    train_pixelnet(p["index"], [p["refined"]], [p["superpixels"]], p["pixelnet"],
                   classifier=[p["classifier"]], previous=[], checkpoint_dir=str(out / "ck_p"),
                   target="superpixel_labels", label_stage="refined", arch="tiny", weights="none",
                   crop=48, scale=[0.75, 1.25], min_label_confidence=0.8, **TINY_NET)
    predict_pixelnet(p["index"], p["pixelnet"], p["train_masks"], stage="train_masks",
                     restrict=True, device="cpu", **shard)
    predict_pixelnet(p["val_index"], p["pixelnet"], p["val_masks"], stage="val_masks",
                     restrict=False, device="cpu", **shard)
    return p
