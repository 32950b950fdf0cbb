import os

import numpy as np
import pytest
import torch
from torch import nn

from mcof.files import DiskFullError
from mcof.models.classifier import Classifier
from mcof.training.checkpoint import CheckpointError, EpochCheckpoints, load_model, save_model
from mcof.training.history import read_history
from mcof.training.loop import Schedule, epoch_order, fit, poly_lr, steps_per_epoch


class Blobs:
    """Random 8x8 images whose label is whether their mean is above 0.5."""

    def __len__(self):
        return 24

    def sample(self, i, rng):
        x = rng.random((3, 8, 8), dtype=np.float32) + (0.3 if i % 2 else -0.3)
        return torch.from_numpy(x), torch.tensor([float(i % 2)])


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(4, 1)

    def forward(self, x):
        return self.fc(self.drop(self.bn(self.conv(x)).mean((2, 3))))


def step(model, batch, device):
    x, y = batch
    logits = model(x)
    return nn.functional.binary_cross_entropy_with_logits(logits, y), {
        "correct": ((logits > 0).float() == y).sum(), "total": len(y)}


class Killed(Exception):
    pass


def killing_step(after):
    calls = {"n": 0}

    def inner(model, batch, device):
        calls["n"] += 1
        if calls["n"] > after:
            raise Killed
        return step(model, batch, device)

    return inner


def train(tmp_path, name, step_fn, epochs=3):
    torch.manual_seed(0)
    model = Net()
    schedule = Schedule(epochs=epochs, batch_size=5, lr=0.1, seed=4)
    ckpt = EpochCheckpoints(tmp_path / name, {"run": "test"})
    history = fit(model, Blobs(), None, step_fn, [(list(model.parameters()), 1.0)], schedule, ckpt,
                  torch.device("cpu"), history_path=str(tmp_path / f"{name}_history.csv"))
    return model, history


def test_resumed_training_equals_uninterrupted(tmp_path):
    straight, history = train(tmp_path, "a", step)
    assert [h["epoch"] for h in history] == [1, 2, 3]
    with pytest.raises(Killed):
        train(tmp_path, "b", killing_step(after=4 + 2))  # dies in epoch 2 (4 steps per epoch)
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["epoch0001.pt"]
    assert [r["epoch"] for r in read_history(tmp_path / "b_history.csv")] == [1]
    resumed, history = train(tmp_path, "b", step)
    assert [h["epoch"] for h in history] == [2, 3]
    for key, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key


def test_history_csv_has_every_epoch_across_a_resume(tmp_path):
    """Loss, accuracy and learning rate per epoch, the epochs before the resume included: the
    resumed run's CSV equals the uninterrupted run's but for the seconds."""
    train(tmp_path, "a", step)
    with pytest.raises(Killed):
        train(tmp_path, "b", killing_step(after=4 + 2))
    train(tmp_path, "b", step)
    straight = read_history(tmp_path / "a_history.csv")
    resumed = read_history(tmp_path / "b_history.csv")
    assert [r["epoch"] for r in resumed] == [1, 2, 3]
    for a, b in zip(straight, resumed):
        assert {k: v for k, v in a.items() if k != "seconds"} == {
            k: v for k, v in b.items() if k != "seconds"}
    # poly learning rate of each epoch's last step (4 steps an epoch, 12 in all, power 0.9)
    assert [r["lr"] for r in straight] == pytest.approx([0.1 * (1 - s / 12) ** 0.9 for s in (3, 7, 11)])
    assert all(0 <= r["accuracy"] <= 1 for r in straight) and straight[0]["device"].startswith("CPU")


def test_checkpoints_of_another_configuration_are_not_resumed(tmp_path):
    train(tmp_path, "c", step, epochs=1)
    other = EpochCheckpoints(tmp_path / "c", {"run": "different"})
    assert other.latest() is None
    assert list((tmp_path / "c").iterdir()) == []


def test_schedule_helpers():
    assert poly_lr(0.1, 0, 100, 0.9) == 0.1 and poly_lr(0.1, 100, 100, 0.9) == 0.0
    assert steps_per_epoch(24, 5) == 4 and steps_per_epoch(3, 5) == 1
    assert epoch_order(10, 1, 2) == epoch_order(10, 1, 2) != epoch_order(10, 1, 3)


def test_model_file_checks(tmp_path):
    model = Classifier(n_classes=3)
    save_model(tmp_path / "m.pt", model, history=[{"epoch": 1, "loss": 0.5}])
    again = load_model(tmp_path / "m.pt", "classifier", n_classes=3)
    for key, value in model.state_dict().items():
        assert torch.equal(value, again.state_dict()[key])
    with pytest.raises(CheckpointError, match="holds a 'classifier' network, expected 'pixelnet'"):
        load_model(tmp_path / "m.pt", "pixelnet")
    with pytest.raises(CheckpointError, match="trained for 3 classes, but the dataset has 20"):
        load_model(tmp_path / "m.pt", "classifier", n_classes=20)
    torch.save([1, 2], tmp_path / "junk.pt")
    with pytest.raises(CheckpointError, match="not an mcof model file"):
        load_model(tmp_path / "junk.pt", "classifier")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(CheckpointError, match="cannot read model file"):
        load_model(tmp_path / "text.pt", "classifier")
    with pytest.raises(CheckpointError, match="not found"):
        load_model(tmp_path / "none.pt", "classifier")


def test_checkpoint_on_a_full_disk_is_one_line_and_leaves_nothing(small_disk):
    """torch alone says "[enforce fail at inline_container.cc:672] . unexpected pos"."""
    model = nn.Linear(400, 400)  # 640 KiB of weights, more than the 256 KiB disk
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    checkpoints = EpochCheckpoints(small_disk / "checkpoints", {"run": "test"})
    with pytest.raises(DiskFullError, match=r"^no space left on device writing "
                       rf"{small_disk}/checkpoints/epoch0001\.pt \([0-9.]+ (B|KiB) free\)$"):
        checkpoints.save(1, model, optimizer)
    assert list((small_disk / "checkpoints").iterdir()) == []
    with pytest.raises(DiskFullError, match=rf"writing {small_disk}/model\.pt "):
        save_model(small_disk / "model.pt", Classifier(n_classes=3, backbone="tiny"))
    assert sorted(p.name for p in small_disk.iterdir()) == ["checkpoints"]


def test_a_killed_save_is_cleaned_when_the_training_resumes(tmp_path):
    """A temporary checkpoint of a training killed while saving, on this host or another, is
    gone once the rerun looks for its checkpoint."""
    _, _ = train(tmp_path, "ck", step, epochs=1)
    left = [tmp_path / "ck" / ".epoch0002.pt.tmp-othernode-4242",
            tmp_path / "ck" / f".epoch0002.pt.tmp-{os.uname().nodename}-1"]
    for path in left:
        path.write_bytes(b"half")
    assert EpochCheckpoints(tmp_path / "ck", {"run": "test"}).latest()["epoch"] == 1
    assert [p.name for p in (tmp_path / "ck").iterdir()] == ["epoch0001.pt"]
