import numpy as np
import pytest
import torch

from mcof.models.backbones import WeightsError, build_backbone, tiny_layers
from mcof.models.classifier import Classifier, compute_cams
from mcof.models.deeplab import PixelNet, predict_logits
from mcof.models.regionnet import (RegionNet, keep_voted_objects, masked_average_pool,
                                   merge_with_seeds, restrict_to_labels)


def test_classifier_logits_and_cams():
    torch.manual_seed(0)
    model = Classifier(n_classes=5, backbone="tiny", output_stride=4).eval()
    assert model(torch.rand(2, 3, 64, 48)).shape == (2, 5)
    assert model.class_maps(torch.rand(1, 3, 64, 48)).shape == (1, 5, 16, 12)
    cams = compute_cams(model, torch.rand(3, 50, 70), [0, 3], scales=(1.0, 0.5), flip=True)
    assert cams.shape == (2, 50, 70)
    assert cams.min() >= 0 and torch.allclose(cams.flatten(1).max(1).values, torch.ones(2))
    assert compute_cams(model, torch.rand(3, 20, 20), []).shape == (0, 20, 20)


def loop_pool(features, superpixels, offsets, n_regions):
    """Reference: nearest-upsample each image's features, average per region with a loop."""
    b, c, h, w = features.shape
    _, hh, ww = superpixels.shape
    out = torch.zeros(n_regions, c)
    for i in range(b):
        ys = torch.arange(hh) * h // hh
        xs = torch.arange(ww) * w // ww
        up = features[i][:, ys][:, :, xs]
        for r in superpixels[i].unique():
            if r < 0:
                continue
            out[offsets[i] + r] = up[:, superpixels[i] == r].mean(dim=1)
    return out


def test_masked_pooling_equals_a_loop_on_random_data():
    torch.manual_seed(0)
    sp = torch.randint(0, 9, (2, 37, 29))
    sp[1, 30:] = -1  # padding of a smaller second image
    sp[1, :30] = torch.randint(0, 6, (30, 29))
    sp[0].view(-1)[:9] = torch.arange(9)  # every region present
    sp[1].view(-1)[:6] = torch.arange(6)
    features = torch.randn(2, 4, 5, 4)
    offsets = torch.tensor([0, 9])
    fast = masked_average_pool(features, sp, offsets, 15)
    torch.testing.assert_close(fast, loop_pool(features, sp, offsets, 15))


def test_masked_pooling_is_differentiable():
    features = torch.randn(1, 3, 4, 4, requires_grad=True)
    sp = torch.zeros(1, 8, 8, dtype=torch.long)
    sp[0, :, 4:] = 1
    masked_average_pool(features, sp, torch.tensor([0]), 2).sum().backward()
    assert features.grad is not None and features.grad.abs().sum() > 0


def test_regionnet_scores_every_region_and_restriction_holds():
    torch.manual_seed(0)
    model = RegionNet(n_classes=4).eval()
    sp = torch.randint(0, 5, (2, 40, 40))
    sp[:, 0, :5] = torch.arange(5)
    logits = model(torch.rand(2, 3, 40, 40), sp, torch.tensor([0, 5]), 10)
    assert logits.shape == (10, 4)
    allowed = torch.zeros(10, 4, dtype=torch.bool)
    allowed[:, [0, 2]] = True
    probs = restrict_to_labels(logits, allowed)
    assert torch.all(probs[:, [1, 3]] == 0)
    torch.testing.assert_close(probs.sum(1), torch.ones(10))
    assert set(probs.argmax(1).tolist()) <= {0, 2}


def test_regionnet_pooling_the_shallow_map_stops_the_backbone_at_the_tap():
    """The layers after the tap do not run, and the logits are those of the whole backbone's
    shallow map."""
    torch.manual_seed(0)
    model = RegionNet(n_classes=4, pooled="shallow", output_stride=4).eval()
    ran = []
    model.features[-1].register_forward_hook(lambda *_: ran.append(True))
    images, sp = torch.rand(2, 3, 40, 40), torch.randint(0, 5, (2, 40, 40))
    sp[:, 0, :5] = torch.arange(5)
    offsets = torch.tensor([0, 5])
    logits = model(images, sp, offsets, 10)
    assert not ran
    shallow = model.features[:model.tap + 1](images)
    assert len(model.features) > model.tap + 1
    expected = model.head(masked_average_pool(shallow, sp, offsets, 10))
    torch.testing.assert_close(logits, expected)
    RegionNet(n_classes=4, pooled="both").eval()(images, sp, offsets, 10)


def test_regions_the_mask_called_objects_shrink_only_when_regionnet_is_sure():
    """Region 0 is a seed; regions 1-4 are not. 1: voted object, RegionNet unsure of background
    (0.6) -> keeps the vote. 2: voted object, RegionNet sure (0.95) -> background. 3: voted
    background, RegionNet says object -> grows. 4: voted object 1, RegionNet says object 2 ->
    RegionNet's class."""
    seeds = np.array([1, 255, 255, 255, 255], np.uint8)
    votes = np.array([1, 1, 1, 0, 1], np.uint8)
    probs = np.array([[0.1, 0.9, 0.0], [0.6, 0.4, 0.0], [0.95, 0.05, 0.0], [0.2, 0.8, 0.0],
                      [0.1, 0.2, 0.7]], np.float32)
    labels, confidence = merge_with_seeds(seeds, probs, 0.9)
    assert labels.tolist() == [1, 0, 0, 1, 2]
    labels, confidence = keep_voted_objects(labels, confidence, seeds, votes, probs, 0.9)
    assert labels.tolist() == [1, 1, 0, 1, 2]
    np.testing.assert_allclose(confidence, [1.0, 1.0, 0.95, 0.8, 0.7])


def test_deeplab_largefov_output_stride_on_321():
    model = PixelNet(21, "deeplab_largefov").eval()
    x = torch.rand(1, 3, 321, 321)
    with torch.no_grad():
        assert model.coarse_logits(x).shape == (1, 21, 41, 41)
        assert model(x).shape == (1, 21, 321, 321)
    head = model.head.body
    fc6 = [m for m in head if isinstance(m, torch.nn.Conv2d)][0]
    assert fc6.kernel_size == (3, 3) and fc6.dilation == (12, 12) and fc6.out_channels == 1024


def test_deeplab_v2_and_tiny_shapes():
    with torch.no_grad():
        v2 = PixelNet(21, "deeplab_v2").eval()
        assert v2.coarse_logits(torch.rand(1, 3, 65, 65)).shape == (1, 21, 9, 9)
        tiny = PixelNet(7, "tiny").eval()
        assert tiny(torch.rand(2, 3, 48, 64)).shape == (2, 7, 48, 64)
        assert predict_logits(tiny, torch.rand(3, 48, 64)).shape == (7, 48, 64)
    with pytest.raises(ValueError, match="unknown PixelNet arch"):
        PixelNet(3, "unet")


def test_weights_from_a_file_and_bad_weights(tmp_path):
    net = torch.nn.Sequential(*tiny_layers())
    path = tmp_path / "tiny.pt"
    torch.save(net.state_dict(), path)
    bb = build_backbone("tiny", str(path))
    torch.testing.assert_close(bb.net[1].weight, net[0].weight)
    with pytest.raises(WeightsError, match="no ImageNet weights"):
        build_backbone("tiny", "imagenet")
    with pytest.raises(WeightsError, match="not found"):
        build_backbone("tiny", str(tmp_path / "missing.pt"))
    torch.save({"0.weight": torch.zeros(1)}, tmp_path / "bad.pt")
    with pytest.raises(WeightsError, match="do not fit"):
        build_backbone("tiny", str(tmp_path / "bad.pt"))
