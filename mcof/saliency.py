"""Unsupervised saliency: robust background detection (Zhu, Liang, Wei & Sun, CVPR 2014).

Why this method: it needs no training data and no weights, it was the strongest of the
unsupervised methods in the salient-object benchmarks of its time (close to DRFI, which MCOF
used, and far ahead of the contrast-only methods), and it works on superpixels, so it is cheap:
a 500x375 image takes a few tens of milliseconds. Its key cue, boundary connectivity, says a
region is background when it touches the image border along much of its extent; objects are
compact and mostly inside the frame.

Steps (paper's notation): SLIC superpixels with mean CIE-Lab colour; geodesic distances over the
adjacency graph (border regions linked to each other) with colour distances as edge weights;
boundary connectivity BndCon = Len_bnd / sqrt(Area); background probability
w_bg = 1 - exp(-BndCon^2 / 2 sigma_b^2); background-weighted contrast as foreground cue; then the
least-squares optimisation of foreground, background and smoothness terms.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import shortest_path

from mcof.superpixels import region_adjacency, region_means

SIGMA_COLOUR = 10.0
SIGMA_BNDCON = 1.0
SIGMA_SPACE = 0.25
MU = 0.1


def slic_regions(image: np.ndarray, pixels_per_region: int, compactness: float) -> np.ndarray:
    """int32 [H, W] SLIC superpixels, about pixels_per_region pixels each."""
    from skimage.segmentation import slic

    h, w = image.shape[:2]
    n = max(16, round(h * w / pixels_per_region))
    return slic(image, n_segments=n, compactness=compactness, start_label=0,
                convert2lab=True).astype(np.int32)


def boundary_regions(labels: np.ndarray) -> np.ndarray:
    """Ids of the regions touching the image border."""
    return np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))


def rbd_saliency(image: np.ndarray, pixels_per_region: int = 150,
                 compactness: float = 10.0) -> np.ndarray:
    """float32 [H, W] saliency in [0, 1] of a uint8 [H, W, 3] image."""
    from skimage.color import rgb2lab

    labels = slic_regions(image, pixels_per_region, compactness)
    labels = np.unique(labels, return_inverse=True)[1].reshape(labels.shape).astype(np.int32)
    n = int(labels.max()) + 1
    if n < 2:
        return np.zeros(labels.shape, dtype=np.float32)
    lab = rgb2lab(image).transpose(2, 0, 1)
    colour = region_means(labels, lab)  # [n, 3]
    h, w = labels.shape
    yy, xx = np.mgrid[0:h, 0:w]
    position = region_means(labels, np.stack([yy / h, xx / w]))  # [n, 2]
    adjacency = region_adjacency(labels)
    border = boundary_regions(labels)

    colour_dist = np.sqrt(((colour[:, None] - colour[None]) ** 2).sum(-1))
    # geodesic graph: neighbours plus every pair of border regions, weighted by colour distance
    bi, bj = np.meshgrid(border, border, indexing="ij")
    links = np.concatenate([adjacency, np.stack([bi.ravel(), bj.ravel()], 1)])
    links = links[links[:, 0] != links[:, 1]]
    weight = np.maximum(colour_dist[links[:, 0], links[:, 1]], 1e-6)
    graph = coo_matrix((weight, (links[:, 0], links[:, 1])), shape=(n, n)).tocsr()
    geodesic = shortest_path(graph, directed=False)

    similarity = np.exp(-(geodesic**2) / (2 * SIGMA_COLOUR**2))
    area = similarity.sum(1)
    length_on_border = similarity[:, border].sum(1)
    bndcon = length_on_border / np.sqrt(area)
    w_bg = 1.0 - np.exp(-(bndcon**2) / (2 * SIGMA_BNDCON**2))

    space_dist2 = ((position[:, None] - position[None]) ** 2).sum(-1)
    w_space = np.exp(-space_dist2 / (2 * SIGMA_SPACE**2))
    contrast = (colour_dist * w_space * w_bg[None, :]).sum(1)
    span = contrast.max() - contrast.min()
    w_fg = (contrast - contrast.min()) / span if span > 0 else np.zeros(n)

    a, b = adjacency[:, 0], adjacency[:, 1]
    smooth = np.exp(-colour_dist[a, b] ** 2 / (2 * SIGMA_COLOUR**2)) + MU
    W = csr_matrix((np.concatenate([smooth, smooth]), (np.concatenate([a, b]), np.concatenate([b, a]))),
                   shape=(n, n)).toarray()
    system = np.diag(W.sum(1) + w_bg + w_fg) - W
    s = np.linalg.solve(system, w_fg)
    span = s.max() - s.min()
    s = (s - s.min()) / span if span > 0 else np.zeros(n)
    return s[labels].astype(np.float32)


class SaliencyError(ValueError):
    """External saliency maps are missing or unreadable."""


def find_external_maps(directory: str | Path, ids: list[str],
                       files: list[str] | None = None) -> dict[str, Path]:
    """Map each id to directory/<id>.png; missing ids are one error that lists them.

    files: the maps as the workflow declared them (where a storage plugin may have staged
    them); each id then takes the file named <id>.png among them.
    """
    directory = Path(directory)
    if files is not None:
        declared = {Path(f).name: Path(f) for f in files}
        paths = {i: declared.get(f"{i}.png", directory / f"{i}.png") for i in ids}
    elif not directory.is_dir():
        raise SaliencyError(f"saliency directory not found: {directory}")
    else:
        paths = {i: directory / f"{i}.png" for i in ids}
    missing = [i for i, p in paths.items() if not p.is_file()]
    if missing:
        shown = ", ".join(missing[:20]) + (f" ... ({len(missing)} in all)" if len(missing) > 20 else "")
        raise SaliencyError(f"saliency directory {directory} has no map for image(s): {shown}")
    return paths


def load_external_map(path: Path, image_id: str, shape: tuple[int, int]) -> np.ndarray:
    """float32 [H, W] in [0, 1] from an 8-bit PNG, resized to the image when sizes differ."""
    try:
        with Image.open(path) as img:
            grey = img.convert("L")
            if grey.size != (shape[1], shape[0]):
                grey = grey.resize((shape[1], shape[0]), Image.BILINEAR)
            return np.asarray(grey, dtype=np.float32) / 255.0
    except OSError as err:
        raise SaliencyError(f"saliency map of image {image_id}: cannot read {path}: {err}") from err
