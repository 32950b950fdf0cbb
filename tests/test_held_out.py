"""The held-out test split: no weak stage reads it; only the evaluation does."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_weak_chain_runs_without_the_test_masks(iteration_one_run):
    """Nothing of the test split is read before evaluation: with its masks gone, every weak
    stage and PixelNet's test predictions ran (conftest.iteration_one_run); the masks were
    needed for miou.txt only, whose evaluation named a missing test mask."""
    run = iteration_one_run
    assert run.returncode_without_masks != 0
    assert run.test_ids[0] in run.evaluation_log_without_masks
    assert float((run.workdir / "results/iter1/miou.txt").read_text()) > 0
