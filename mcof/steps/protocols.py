"""Rule evaluate_cams: the CAMs scored as IRNet and SEAM report them.

Each pixel of a training image takes the class of its highest CAM among the image's labelled
classes when that CAM is above a background threshold t, else background (the argmax over
[t, CAM of each labelled class]); the mIoU of these label maps against the ground truth, over a
sweep of t, gives a curve whose best point is the CAMs' score. Evaluation only: the method's own
stages never see it.
"""

from __future__ import annotations

import numpy as np

from mcof import IGNORE
from mcof.artifacts import ArtifactReader
from mcof.data.voc import DatasetIndex, GroundTruth
from mcof.files import write_json
from mcof.layout import CAMS
from mcof.metrics import ConfusionMatrix
from mcof.steps.evaluate import no_masks

CAM_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20))
"""0.05, 0.10, ..., 0.95: the background thresholds swept."""


def cam_labels(cams: np.ndarray, classes: np.ndarray, threshold: float) -> np.ndarray:
    """uint8 [H, W]: argmax over [threshold, cams[0], ..., cams[n-1]] mapped to class ids
    (0 for the threshold, classes[i] for cams[i]); ties go to background, as numpy's argmax
    keeps the first. cams float [n, H, W]; classes uint8 [n]; n may be 0."""
    padded = np.concatenate([np.full((1, *cams.shape[1:]), threshold, np.float64),
                             cams.astype(np.float32).astype(np.float64)])
    keys = np.concatenate([[0], np.asarray(classes, np.int64)])
    return keys[padded.argmax(axis=0)].astype(np.uint8)


class CamThresholdSweep:
    """Confusion matrices of the CAM label maps at every threshold, from one pass per image.

    A pixel whose highest CAM is m takes that CAM's class at the thresholds below m and
    background at the others, so one histogram over (number of thresholds below m, truth,
    class) holds every threshold's confusion matrix: counts[b, g, c].
    """

    def __init__(self, n_classes: int, thresholds=CAM_THRESHOLDS):
        self.n_classes = n_classes
        self.thresholds = np.asarray(sorted(thresholds), np.float64)
        self.counts = np.zeros((len(self.thresholds) + 1, n_classes, n_classes), np.int64)

    def add(self, gt: np.ndarray, cams: np.ndarray, classes: np.ndarray) -> None:
        """gt uint8 [H, W] (255 ignored); cams float [n, H, W]; classes [n] their class ids."""
        if cams.shape[1:] != gt.shape:
            raise ValueError(f"CAMs {cams.shape[1:]} and ground truth {gt.shape} differ in shape")
        valid = gt != IGNORE
        g = gt[valid].astype(np.int64)
        if len(classes):
            flat = cams.astype(np.float32)[:, valid]
            top = flat.max(axis=0)
            best = np.asarray(classes, np.int64)[flat.argmax(axis=0)]
        else:
            top, best = np.zeros(g.shape, np.float32), np.zeros(g.shape, np.int64)
        if g.size and max(g.max(), best.max()) >= self.n_classes:
            raise ValueError(f"label ids exceed the {self.n_classes} classes")
        # number of thresholds strictly below each pixel's highest CAM
        below = np.searchsorted(self.thresholds, top.astype(np.float64), side="left")
        k = self.n_classes
        self.counts += np.bincount((below * k + g) * k + best,
                                   minlength=self.counts.size).reshape(self.counts.shape)

    def confusion(self, index: int) -> ConfusionMatrix:
        """The confusion matrix at thresholds[index]: pixels whose highest CAM is above it keep
        their class, the others are background."""
        k = self.n_classes
        matrix = np.zeros((k, k + 1), np.int64)
        matrix[:, :k] = self.counts[index + 1:].sum(axis=0)
        matrix[:, 0] += self.counts[: index + 1].sum(axis=(0, 2))
        return ConfusionMatrix(k, matrix)

    def summary(self, classes: list[str]) -> dict:
        """mIoU (%) at every threshold, the best threshold (the lowest of equal ones), its mIoU
        and class IoU."""
        mious = [self.confusion(i).miou() * 100.0 for i in range(len(self.thresholds))]
        best = int(np.nanargmax(mious)) if not np.all(np.isnan(mious)) else 0
        top = self.confusion(best).summary(classes)
        return {"thresholds": [float(t) for t in self.thresholds], "miou": mious,
                "best_threshold": float(self.thresholds[best]), "best_miou": mious[best],
                "best_iou": top["iou"]}


def evaluate_cams(index: str, cams: list[str], out: str, *, thresholds: list[float],
                  mask_dir: str | None) -> dict:
    """The CAMs' mIoU on the training set at every background threshold (CamThresholdSweep)."""
    dataset = DatasetIndex.load(index)
    if mask_dir is None:
        return no_masks(out, CAMS, dataset.split)
    truth = GroundTruth(mask_dir, dataset.n_classes)
    sweep = CamThresholdSweep(dataset.n_classes, thresholds)
    with ArtifactReader(cams, CAMS) as maps:
        for image_id in dataset.ids:
            sweep.add(truth.load(image_id), maps.read(image_id, "cams"),
                      maps.read(image_id, "classes"))
    summary = {"stage": CAMS, "split": dataset.split, "n_images": len(dataset.ids),
               **sweep.summary(dataset.classes)}
    write_json(out, summary)
    return summary
