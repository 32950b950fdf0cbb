import subprocess
import sys

import numpy as np
import torch
from PIL import Image

from mcof.models.classifier import Classifier
from mcof.models.deeplab import PixelNet
from mcof.training.checkpoint import save_model


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "mcof", *args], capture_output=True, text=True)


def test_predict_writes_palette_masks_and_overlays(tmp_path):
    torch.manual_seed(0)
    save_model(tmp_path / "pixelnet.pt", PixelNet(4, "tiny"))
    for name, size in (("a", (40, 30)), ("b", (64, 48))):
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (*size[::-1], 3), np.uint8)).save(
            tmp_path / f"{name}.jpg")
    proc = run_cli("predict", "--checkpoint", str(tmp_path / "pixelnet.pt"), "--out",
                   str(tmp_path / "out"), "--overlay", "--device", "cpu",
                   str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg"))
    assert proc.returncode == 0, proc.stderr
    mask = Image.open(tmp_path / "out" / "b.png")
    assert mask.mode == "P" and mask.size == (64, 48)
    assert np.asarray(mask).max() < 4
    assert Image.open(tmp_path / "out" / "a_overlay.jpg").size == (40, 30)
    proc = run_cli("predict", "--checkpoint", str(tmp_path / "pixelnet.pt"), "--out",
                   str(tmp_path / "crf"), "--crf", "--device", "cpu", str(tmp_path / "a.jpg"))
    assert proc.returncode == 0, proc.stderr
    assert Image.open(tmp_path / "crf" / "a.png").size == (40, 30)


def test_predict_errors_are_one_line(tmp_path):
    save_model(tmp_path / "classifier.pt", Classifier(3))
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "a.jpg")
    proc = run_cli("predict", "--checkpoint", str(tmp_path / "classifier.pt"), "--out",
                   str(tmp_path / "out"), str(tmp_path / "a.jpg"))
    assert proc.returncode == 2
    assert "holds a 'classifier' network, expected 'pixelnet'" in proc.stderr
    save_model(tmp_path / "pixelnet.pt", PixelNet(3, "tiny"))
    proc = run_cli("predict", "--checkpoint", str(tmp_path / "pixelnet.pt"), "--out",
                   str(tmp_path / "out"), str(tmp_path / "missing.jpg"))
    assert proc.returncode == 2 and "missing.jpg" in proc.stderr
