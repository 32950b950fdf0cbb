"""Streaming confusion-matrix segmentation metrics with an ignore label."""

from __future__ import annotations

import numpy as np

from mcof import IGNORE


class ConfusionMatrix:
    """Pixel counts conf[g, p] of ground-truth class g predicted as p.

    Ground-truth pixels equal to 255 are ignored. A prediction of 255 (unlabelled) is counted in
    an extra last column, so that seeds can be scored both ways: as background for mIoU (the
    MCOF paper's convention) and as "no label" for precision and recall.
    """

    def __init__(self, n_classes: int, matrix: np.ndarray | None = None):
        self.n_classes = n_classes
        shape = (n_classes, n_classes + 1)
        self.matrix = np.zeros(shape, dtype=np.int64) if matrix is None else np.asarray(matrix, np.int64)
        if self.matrix.shape != shape:
            raise ValueError(f"matrix shape {self.matrix.shape} != {shape}")

    def add(self, gt: np.ndarray, pred: np.ndarray) -> None:
        """gt, pred: integer [H, W] label maps of the same shape."""
        if gt.shape != pred.shape:
            raise ValueError(f"ground truth {gt.shape} and prediction {pred.shape} differ in shape")
        valid = gt != IGNORE
        g = gt[valid].astype(np.int64)
        p = pred[valid].astype(np.int64)
        p[p == IGNORE] = self.n_classes
        if g.size and (g.max() >= self.n_classes or p.max() > self.n_classes):
            raise ValueError(f"label ids exceed the {self.n_classes} classes")
        k = self.n_classes + 1
        self.matrix += np.bincount(g * k + p, minlength=self.n_classes * k).reshape(self.n_classes, k)

    def merge(self, other: ConfusionMatrix) -> ConfusionMatrix:
        self.matrix += other.matrix
        return self

    def iou(self) -> np.ndarray:
        """float64 [K] IoU per class, unlabelled predictions counted as background; nan if absent."""
        conf = self.matrix[:, : self.n_classes].copy()
        conf[:, 0] += self.matrix[:, self.n_classes]
        tp = np.diag(conf).astype(np.float64)
        union = conf.sum(0) + conf.sum(1) - tp
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(union > 0, tp / union, np.nan)

    def miou(self) -> float:
        return float(np.nanmean(self.iou()))

    def pixel_accuracy(self) -> float:
        conf = self.matrix[:, : self.n_classes]
        return float(np.trace(conf) / max(self.matrix.sum(), 1))

    def seed_scores(self) -> dict[str, float]:
        """Precision and recall of labelled pixels, objects (classes >= 1) and background apart.

        object_precision: of the pixels given an object class, the share whose truth is that class.
        object_recall: of the ground-truth object pixels, the share given their own class.
        """
        m, k = self.matrix, self.n_classes
        obj_tp = float(np.trace(m[1:, 1:k]))
        obj_pred = float(m[:, 1:k].sum())
        obj_true = float(m[1:, :].sum())
        bg_pred, bg_true = float(m[:, 0].sum()), float(m[0, :].sum())
        total = float(m.sum())
        return {
            "object_precision": obj_tp / obj_pred if obj_pred else float("nan"),
            "object_recall": obj_tp / obj_true if obj_true else float("nan"),
            "background_precision": float(m[0, 0]) / bg_pred if bg_pred else float("nan"),
            "background_recall": float(m[0, 0]) / bg_true if bg_true else float("nan"),
            "labelled_fraction": 1.0 - float(m[:, k].sum()) / total if total else float("nan"),
        }

    def summary(self, class_names: list[str]) -> dict:
        """JSON-ready dict: mIoU and per-class IoU in percent, plus the raw matrix."""
        iou = self.iou()
        return {
            "miou": 100.0 * self.miou(),
            "pixel_accuracy": 100.0 * self.pixel_accuracy(),
            "iou": {name: (None if np.isnan(v) else 100.0 * float(v)) for name, v in zip(class_names, iou)},
            "confusion": self.matrix.tolist(),
        }

    @classmethod
    def from_summary(cls, summary: dict) -> ConfusionMatrix:
        matrix = np.asarray(summary["confusion"], dtype=np.int64)
        return cls(matrix.shape[0], matrix)


class SaliencyScores:
    """Salient-object metrics of saliency maps against the ground-truth foreground.

    MAE: mean absolute error per image, averaged over images. F-measure with beta^2 = 0.3:
    adaptive (each map thresholded at twice its mean, per image, averaged) and maximum (of the
    precision-recall curve averaged over images, 256 thresholds). Pixels labelled 255 are
    ignored.
    """

    BETA2 = 0.3
    THRESHOLDS = np.linspace(0.0, 1.0, 256)

    def __init__(self):
        self.n = 0
        self.mae_sum = 0.0
        self.adaptive_f_sum = 0.0
        self.precision_sum = np.zeros(len(self.THRESHOLDS))
        self.recall_sum = np.zeros(len(self.THRESHOLDS))

    @classmethod
    def f_measure(cls, precision, recall):
        num = (1 + cls.BETA2) * precision * recall
        den = cls.BETA2 * precision + recall
        return np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)

    def add(self, saliency: np.ndarray, mask: np.ndarray) -> None:
        """saliency float [H, W] in [0, 1]; mask uint8 [H, W] class ids (0 = background)."""
        valid = mask != IGNORE
        s = saliency[valid].astype(np.float64)
        g = mask[valid] > 0
        if s.size == 0:
            return
        self.n += 1
        self.mae_sum += float(np.abs(s - g).mean())
        # precision/recall at every threshold from one sort
        order = np.argsort(-s)
        s_sorted, g_sorted = s[order], g[order]
        tp_cum = np.concatenate([[0], np.cumsum(g_sorted)])
        above = len(s) - np.searchsorted(s_sorted[::-1], self.THRESHOLDS, side="left")
        tp = tp_cum[above]
        positives = max(int(g.sum()), 1)
        self.precision_sum += np.where(above > 0, tp / np.maximum(above, 1), 0.0)
        self.recall_sum += tp / positives
        predicted = s >= min(2.0 * s.mean(), 1.0)
        tp_a = float((predicted & g).sum())
        p_a = tp_a / max(int(predicted.sum()), 1)
        r_a = tp_a / positives
        self.adaptive_f_sum += float(self.f_measure(np.float64(p_a), np.float64(r_a)))

    def merge(self, other: SaliencyScores) -> SaliencyScores:
        self.n += other.n
        self.mae_sum += other.mae_sum
        self.adaptive_f_sum += other.adaptive_f_sum
        self.precision_sum += other.precision_sum
        self.recall_sum += other.recall_sum
        return self

    def state(self) -> dict:
        return {"n": self.n, "mae_sum": self.mae_sum, "adaptive_f_sum": self.adaptive_f_sum,
                "precision_sum": self.precision_sum.tolist(), "recall_sum": self.recall_sum.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> SaliencyScores:
        out = cls()
        out.n, out.mae_sum, out.adaptive_f_sum = state["n"], state["mae_sum"], state["adaptive_f_sum"]
        out.precision_sum = np.asarray(state["precision_sum"], dtype=np.float64)
        out.recall_sum = np.asarray(state["recall_sum"], dtype=np.float64)
        return out

    def summary(self) -> dict:
        n = max(self.n, 1)
        f = self.f_measure(self.precision_sum / n, self.recall_sum / n)
        return {"n_images": self.n, "mae": self.mae_sum / n,
                "adaptive_f_measure": self.adaptive_f_sum / n, "max_f_measure": float(f.max())}
