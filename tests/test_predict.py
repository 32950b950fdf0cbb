import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from mcof.data.transforms import to_float
from mcof.models.classifier import Classifier
from mcof.models.deeplab import PixelNet, predict_logits
from mcof.predict import class_probabilities, scaled_size
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


class WidthNet(torch.nn.Module):
    """Two classes whose logits at every pixel are log(8) and log(input width): at width w,
    class 1 has probability w / (8 + w) everywhere, with or without mirroring."""

    def forward(self, x):
        n, _, h, w = x.shape
        return torch.stack([torch.full((n, h, w), np.log(8.0)), torch.full((n, h, w), np.log(w))], 1)


def test_multi_scale_averages_the_probabilities_of_each_scale():
    """An 8 x 8 image at scales 0.5 and 1: widths 4 and 8, class-1 probabilities 4/12 and 8/16,
    averaged 5/12. A 7 x 5 image at 0.75 runs at 5 x 4 and comes back at 7 x 5."""
    image = np.zeros((8, 8, 3), np.uint8)
    probs = class_probabilities(WidthNet(), image, torch.device("cpu"), scales=(0.5, 1.0))
    assert probs.shape == (2, 8, 8)
    torch.testing.assert_close(probs[1], torch.full((8, 8), 5 / 12))
    odd = class_probabilities(WidthNet(), np.zeros((7, 5, 3), np.uint8), torch.device("cpu"),
                              scales=(0.75,), flip=False)
    assert scaled_size(7, 5, 0.75) == (5, 4) and odd.shape == (2, 7, 5)
    torch.testing.assert_close(odd[1], torch.full((7, 5), 4 / 12))
    with pytest.raises(ValueError, match="test scales must be positive"):
        class_probabilities(WidthNet(), image, torch.device("cpu"), scales=(0.0,))


def test_single_scale_is_the_plain_flip_averaged_prediction():
    """test_scales [1.0] (the default) gives exactly what PixelNet gave before there were
    scales: softmax of the flip-averaged logits, the disallowed classes at probability 0."""
    torch.manual_seed(0)
    net = PixelNet(4, "tiny").eval()
    image = np.random.default_rng(1).integers(0, 255, (40, 56, 3), np.uint8)
    logits = predict_logits(net, torch.from_numpy(to_float(image)), True)
    logits[2] = float("-inf")
    expected = torch.softmax(logits, 0)
    got = class_probabilities(net, image, torch.device("cpu"), True, allowed=[0, 1, 3])
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    multi = class_probabilities(net, image, torch.device("cpu"), True, allowed=[0, 1, 3],
                                scales=(0.75, 1.0, 1.25))
    assert multi.shape == expected.shape and not torch.equal(multi, expected)
    torch.testing.assert_close(multi.sum(0), torch.ones(40, 56))
    assert float(multi[2].max()) == 0.0


def test_predict_command_takes_test_scales(tmp_path):
    torch.manual_seed(0)
    save_model(tmp_path / "pixelnet.pt", PixelNet(4, "tiny"))
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (30, 40, 3), np.uint8)).save(
        tmp_path / "a.jpg")
    proc = run_cli("predict", "--checkpoint", str(tmp_path / "pixelnet.pt"), "--out",
                   str(tmp_path / "out"), "--device", "cpu", "--scales", "0.75,1.0,1.25",
                   str(tmp_path / "a.jpg"))
    assert proc.returncode == 0, proc.stderr
    assert Image.open(tmp_path / "out" / "a.png").size == (40, 30)
    proc = run_cli("predict", "--checkpoint", str(tmp_path / "pixelnet.pt"), "--out",
                   str(tmp_path / "out"), "--scales", "-1", "--device", "cpu", str(tmp_path / "a.jpg"))
    assert proc.returncode == 2 and "test scales must be positive" in proc.stderr
