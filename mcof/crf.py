"""Dense CRF post-processing of PixelNet's class probabilities (Krähenbühl & Koltun, 2011).

DeepLab, MCOF's PixelNet, sharpens its coarse, output-stride-8 predictions along image edges with
a fully connected CRF: a Gaussian smoothness kernel plus a bilateral (position and colour)
appearance kernel, mean-field inference. The defaults are DeepLab-LargeFOV's VOC settings. The
CRF comes from pydensecrf2 (the `crf` extra), imported only when the switch is on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class CRFUnavailable(RuntimeError):
    """crf.enabled is set but pydensecrf2 is not installed."""


@dataclass(frozen=True)
class CRFSettings:
    iterations: int = 10
    pos_xy_std: float = 3.0
    pos_weight: float = 3.0
    bi_xy_std: float = 121.0
    bi_rgb_std: float = 5.0
    bi_weight: float = 4.0


def dense_crf(image: np.ndarray, probs: np.ndarray, settings: CRFSettings = CRFSettings()) -> np.ndarray:
    """image uint8 [H, W, 3], probs float [C, H, W] summing to 1 over C -> refined float32 [C, H, W].

    Classes with probability 0 (excluded by the image labels) stay at 0.
    """
    try:
        import pydensecrf.densecrf as dcrf
    except ImportError as err:
        raise CRFUnavailable(
            "crf.enabled is true but pydensecrf2 is not installed: pip install 'pydensecrf2==1.1' "
            "(or the project's [crf] extra)") from err
    n_classes, height, width = probs.shape
    crf = dcrf.DenseCRF2D(width, height, n_classes)
    allowed = probs.reshape(n_classes, -1).max(axis=1) > 0
    unary = -np.log(np.clip(probs, 1e-8, 1.0)).reshape(n_classes, -1)
    crf.setUnaryEnergy(np.ascontiguousarray(unary, dtype=np.float32))
    crf.addPairwiseGaussian(sxy=settings.pos_xy_std, compat=settings.pos_weight)
    crf.addPairwiseBilateral(sxy=settings.bi_xy_std, srgb=settings.bi_rgb_std,
                             rgbim=np.array(image, dtype=np.uint8, order="C"),
                             compat=settings.bi_weight)
    refined = np.asarray(crf.inference(settings.iterations), dtype=np.float32)
    refined[~allowed] = 0.0
    refined /= refined.sum(axis=0, keepdims=True)
    return refined.reshape(n_classes, height, width)
