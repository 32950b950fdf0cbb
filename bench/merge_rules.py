"""Training-set label quality of RegionNet's merge rules, on the artifacts of a finished run.

    python bench/merge_rules.py bench/results/levers/synthetic/keep_classes_only 2

For iteration K of a run whose seeds were PixelNet's confident superpixels, it scores against
the training masks (evaluation only) what PixelNet K would train on under each rule, reusing
that run's RegionNet scores (the merge happens after RegionNet, so no training is needed):

- regions: RegionNet's labels as the run wrote them (every superpixel labelled);
- targets: those labels with the run's min_label_confidence applied (unsure ones ignored), what
  PixelNet trained on in the run;
- all_votes: every superpixel takes PixelNet K-1's majority label (mask_min_confidence 0);
- keep_mask_objects: targets, where an unsure superpixel the mask voted object stays that object
  unless RegionNet gives background at least P (mcof.models.regionnet.keep_voted_objects).

Prints mIoU, object precision and object recall (ignored pixels count as unlabelled).
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

import numpy as np
import yaml

from mcof import IGNORE
from mcof.artifacts import ArtifactReader
from mcof.data.voc import DatasetIndex, GroundTruth
from mcof.layout import (MAIN_ROOT, REGIONS, SEEDS, SUPERPIXELS, TRAIN_MASKS, artifact, index_file,
                         shared)
from mcof.metrics import ConfusionMatrix
from mcof.models.regionnet import keep_voted_objects
from mcof.seeds import seeds_from_mask
from mcof.superpixels import paint

RULES = ("regions", "targets", "all_votes", "keep_mask_objects")


def shards(run: Path, pattern: str) -> list[str]:
    """Every shard of a stage: pattern is a layout path with "*" as its shard."""
    return sorted(glob.glob(str(run / pattern)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a workflow directory (e.g. a lever's run)")
    parser.add_argument("iteration", type=int, help="an iteration > 1")
    parser.add_argument("--min-background", type=float, default=0.9,
                        help="keep_mask_objects's P (default 0.9)")
    args = parser.parse_args(argv)
    run, k = args.run, args.iteration
    config = yaml.safe_load((run / "config.yaml").read_text())
    min_label_confidence = config["pixelnet"]["min_label_confidence"]
    dataset = DatasetIndex.load(run / index_file("train"))
    truth = GroundTruth(str(Path(dataset.root) / config["dataset"]["mask_dir"]), dataset.n_classes)
    confusion = {rule: ConfusionMatrix(dataset.n_classes) for rule in RULES}
    with ArtifactReader(shards(run, shared(SUPERPIXELS, "*")), SUPERPIXELS) as sps, \
            ArtifactReader(shards(run, artifact(MAIN_ROOT, k, SEEDS, "*")), SEEDS) as seed_labels, \
            ArtifactReader(shards(run, artifact(MAIN_ROOT, k, REGIONS, "*")), REGIONS) as regions, \
            ArtifactReader(shards(run, artifact(MAIN_ROOT, k - 1, TRAIN_MASKS, "*")),
                           TRAIN_MASKS) as masks:
        for image_id in dataset.ids:
            classes = dataset.labels[image_id]
            if not classes:
                continue
            superpixels = sps.read(image_id, "labels").astype(np.int64)
            seeds = seed_labels.read(image_id, "labels")
            labels = regions.read(image_id, "labels")
            confidence = regions.read(image_id, "confidence").astype(np.float32)
            probs = regions.read(image_id, "scores").astype(np.float32)
            votes = seeds_from_mask(superpixels, masks.read(image_id, "mask"), classes,
                                    dataset.n_classes)
            kept, kept_confidence = keep_voted_objects(labels, confidence, seeds, votes, probs,
                                                       args.min_background)
            out = {"regions": labels,
                   "targets": np.where(confidence >= min_label_confidence, labels, IGNORE),
                   "all_votes": votes,
                   "keep_mask_objects": np.where(kept_confidence >= min_label_confidence, kept,
                                                 IGNORE)}
            gt = truth.load(image_id)
            for rule in RULES:
                confusion[rule].add(gt, paint(superpixels, out[rule].astype(np.uint8)))
    print(f"{run} iteration {k}: training-set labels under each rule")
    for rule in RULES:
        scores = confusion[rule].seed_scores()
        print(f"{rule:18s} mIoU {100 * confusion[rule].miou():5.1f}  object precision "
              f"{100 * scores['object_precision']:5.1f}  "
              f"recall {100 * scores['object_recall']:5.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
