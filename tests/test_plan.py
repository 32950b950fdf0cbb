import pytest

from mcof.plan import Plan, PlanError, RunSettings

COMPARISONS = {"direct": {"mode": "direct"}, "no_saliency": {"saliency_refine": False},
               "full": {"supervision": "full"}}


@pytest.fixture
def plan():
    return Plan(RunSettings(), COMPARISONS)


def test_stages_per_iteration(plan):
    assert plan.stages("results", 1) == ["seeds", "regions", "refined", "train_masks", "val_masks"]
    assert plan.stages("results", 3) == ["seeds", "regions", "train_masks", "val_masks"]
    assert plan.stages("results/ablation/no_saliency", 1) == ["seeds", "regions", "train_masks", "val_masks"]
    assert plan.stages("results/ablation/direct", 2) == ["train_masks", "val_masks"]
    assert plan.stages("results/ablation/full", 1) == ["train_masks", "val_masks"]
    with pytest.raises(PlanError, match="ask for iteration 1"):
        plan.stages("results/ablation/full", 2)
    with pytest.raises(PlanError, match="unknown run directory"):
        plan.stages("results/ablation/other", 1)


def test_pixelnet_targets(plan):
    t = plan.pixelnet_target("results", 1)
    assert (t.kind, t.stage, t.iteration) == ("superpixel_labels", "refined", 1)
    t = plan.pixelnet_target("results", 4)
    assert (t.kind, t.stage, t.iteration) == ("superpixel_labels", "regions", 4)
    t = plan.pixelnet_target("results/ablation/no_saliency", 1)
    assert (t.kind, t.stage) == ("superpixel_labels", "regions")
    t = plan.pixelnet_target("results/ablation/direct", 3)
    assert (t.kind, t.stage, t.iteration) == ("pixel_masks", "train_masks", 2)
    assert plan.pixelnet_target("results/ablation/full", 1).kind == "ground_truth"


def test_artifacts_are_shared_where_inputs_agree(plan):
    nosal, direct = "results/ablation/no_saliency", "results/ablation/direct"
    assert plan.home(nosal, 1, "seeds") == "results"
    assert plan.home(nosal, 1, "regions") == "results"
    assert plan.home(nosal, 1, "regionnet") == "results"
    assert plan.home(nosal, 1, "train_masks") == nosal      # PixelNet trained on other labels
    assert plan.home(direct, 1, "train_masks") == "results"  # iteration 1 is MCOF's own
    assert plan.home(direct, 1, "pixelnet") == "results"
    assert plan.home(direct, 2, "train_masks") == direct
    assert plan.home(nosal, 2, "seeds") == nosal
    with pytest.raises(PlanError, match="has no refined"):
        plan.home(nosal, 1, "refined")


def test_main_run_without_saliency_shares_with_its_comparison():
    plan = Plan(RunSettings(saliency_refine=False), COMPARISONS)
    assert plan.home("results/ablation/no_saliency", 3, "regions") == "results"


def test_settings_are_checked():
    with pytest.raises(PlanError, match="mode must be one of"):
        RunSettings(mode="other")
    with pytest.raises(PlanError, match="supervision must be one of"):
        Plan(RunSettings(), {"x": {"supervision": "semi"}})
