import numpy as np
import pytest
from skimage.measure import regionprops

from mcof.data.photos import PHOTO_CLASSES, PhotoSpec, _object, load_sources


def solidity(outline: np.ndarray) -> float:
    """Area over convex-hull area of the largest part: 1 for a convex blob."""
    return max(regionprops(outline.astype(np.uint8)), key=lambda r: r.area).solidity


def test_blob_outlines_leave_no_class_its_shape():
    """With outlines "blob" every class is cut in a blob; with its own outlines the horse is
    told by its silhouette, which is far from convex."""
    src, rng = load_sources(), np.random.default_rng(0)
    horse = PHOTO_CLASSES.index("horse")
    own = [solidity(_object(rng, src, horse, 128, "own")[1]) for _ in range(5)]
    assert max(own) < 0.8
    for label in range(len(PHOTO_CLASSES)):
        for _ in range(3):
            look, outline = _object(rng, src, label, 128, "blob")
            assert look.shape[:2] == outline.shape and solidity(outline) > 0.9, PHOTO_CLASSES[label]


def test_spec_rejects_unknown_outlines():
    assert PhotoSpec(outlines="blob").outlines == "blob"
    with pytest.raises(ValueError, match="outlines"):
        PhotoSpec(outlines="square")
