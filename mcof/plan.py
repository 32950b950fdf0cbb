"""Which artifacts an iteration of a run consists of, and which run directory makes each one.

A run is the main one (under results/) or a comparison run (under results/ablation/<name>/)
that changes some of its settings: the paper's ablations ("direct" iterations without RegionNet,
no saliency refinement) and the fully supervised upper bound. Artifacts whose inputs do not
depend on the changed settings are shared. The Snakemake input functions ask this module for
paths, so the sharing logic is tested without Snakemake.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mcof import layout
from mcof.layout import (ABLATION_ROOT, CRF_LABELS, MAIN_ROOT, MODEL_STAGES, REFINED, REGIONS,
                         RW_MASKS, SEEDS, TARGETS, TRAIN_MASKS, mask_stage)

MODES = ("mcof", "direct")
SUPERVISIONS = ("weak", "full")


class PlanError(ValueError):
    """A target that the run's settings cannot produce."""


@dataclass(frozen=True)
class RunSettings:
    mode: str = "mcof"
    saliency_refine: bool = True
    supervision: str = "weak"

    def __post_init__(self):
        if self.mode not in MODES:
            raise PlanError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.supervision not in SUPERVISIONS:
            raise PlanError(f"supervision must be one of {', '.join(SUPERVISIONS)}, got {self.supervision!r}")


SUPERPIXEL_LABELS = "superpixel_labels"
PIXEL_MASKS = "pixel_masks"
GROUND_TRUTH = "ground_truth"
TARGET_KINDS = (SUPERPIXEL_LABELS, PIXEL_MASKS, GROUND_TRUTH)


@dataclass(frozen=True)
class PixelNetTarget:
    """What PixelNet of an iteration is trained on: kind (superpixel_labels: a region stage
    painted onto the superpixels | pixel_masks: a previous PixelNet's masks | ground_truth), the
    artifact stage, and the iteration that artifact belongs to."""

    kind: str
    stage: str | None = None
    iteration: int | None = None


class Plan:
    """The runs of a workflow and their iterations.

    eval_splits: the dataset's splits besides train that PixelNet predicts and evaluation
    scores (val for choosing settings, test for the reported figures); shards: shard count per
    split; crf_labels: PixelNet of a weak run trains on its regions after the dense CRF (a
    crf_labels stage) rather than on the regions themselves; rw_masks: an MCOF iteration's
    training-set masks are spread by the random walk (an rw_masks stage) before they seed the
    next iteration.
    """

    def __init__(self, main: RunSettings, comparisons: dict[str, dict] | None = None,
                 shards: dict[str, int] | None = None, eval_splits: tuple[str, ...] = ("val",),
                 crf_labels: bool = False, rw_masks: bool = False):
        self.crf_labels, self.rw_masks = crf_labels, rw_masks
        self.runs: dict[str, RunSettings] = {MAIN_ROOT: main}
        for name, overrides in (comparisons or {}).items():
            self.runs[f"{ABLATION_ROOT}/{name}"] = replace(main, **overrides)
        self.eval_splits = tuple(eval_splits)
        self.shards = {"train": 1, **{split: 1 for split in self.eval_splits}, **(shards or {})}

    @property
    def reported_split(self) -> str | None:
        """The split whose mIoU the figures report: test when there is one, else val."""
        for split in ("test", "val"):
            if split in self.eval_splits:
                return split
        return None

    def settings(self, root: str) -> RunSettings:
        try:
            return self.runs[root]
        except KeyError:
            known = ", ".join(self.runs)
            raise PlanError(f"unknown run directory {root!r}; runs are: {known}") from None

    def stages(self, root: str, k: int) -> list[str]:
        """Artifacts an iteration produces, in pipeline order (PixelNet's as train/val_masks)."""
        s = self.settings(root)
        if k < 1:
            raise PlanError(f"iterations start at 1, got {k}")
        masks = [TRAIN_MASKS, *(mask_stage(split) for split in self.eval_splits)]
        if s.supervision == "full":
            if k != 1:
                raise PlanError(
                    f"{root}: a fully supervised run trains one PixelNet on the ground truth; "
                    "ask for iteration 1")
            return masks
        crf = [CRF_LABELS] if self.crf_labels else []
        if self.rw_masks and s.mode == "mcof":
            masks.insert(1, RW_MASKS)
        if k == 1:
            return [SEEDS, REGIONS, *([REFINED] if s.saliency_refine else []), *crf, *masks]
        if s.mode == "direct":
            return masks
        return [SEEDS, REGIONS, *crf, *masks]

    def seed_masks(self, root: str) -> str:
        """The stage an MCOF iteration's seeds are projected from: PixelNet's training-set masks
        of the previous iteration, after the random walk when there is one."""
        return RW_MASKS if self.rw_masks and self.settings(root).mode == "mcof" else TRAIN_MASKS

    def scored(self, root: str, k: int) -> list[str]:
        """What an iteration's metrics.json scores: its stages and, in a weak run, PixelNet's
        training targets."""
        weak = self.settings(root).supervision == "weak"
        return [*self.stages(root, k), *([TARGETS] if weak else [])]

    def last_iteration(self, root: str, iterations: int) -> int:
        """The last iteration a run goes to: a fully supervised run has only one."""
        return 1 if self.settings(root).supervision == "full" else iterations

    def pixelnet_target(self, root: str, k: int) -> PixelNetTarget:
        s = self.settings(root)
        self.stages(root, k)
        if s.supervision == "full":
            return PixelNetTarget(GROUND_TRUTH)
        if s.mode == "direct" and k > 1:
            return PixelNetTarget(PIXEL_MASKS, TRAIN_MASKS, k - 1)
        if self.crf_labels:
            return PixelNetTarget(PIXEL_MASKS, CRF_LABELS, k)
        return PixelNetTarget(SUPERPIXEL_LABELS, self.region_source(root, k), k)

    def region_source(self, root: str, k: int) -> str:
        """The region stage PixelNet's labels come from: refined regions in iteration 1 of a
        run with saliency refinement, else RegionNet's regions."""
        return REFINED if k == 1 and self.settings(root).saliency_refine else REGIONS

    def signature(self, root: str, k: int, stage: str) -> tuple:
        """Everything an artifact depends on besides the shared earlier stages."""
        s = self.settings(root)
        if s.supervision == "full":
            return ("full", k, stage)
        if k == 1 and stage in (SEEDS, REGIONS, REFINED):
            return ("weak", 1, stage)
        if k == 1:
            return ("weak", 1, stage, s.saliency_refine)
        return ("weak", k, stage, s.mode, s.saliency_refine)

    def home(self, root: str, k: int, stage: str) -> str:
        """The run directory that makes this artifact: the first run with the same signature.

        stage is a stage name, a network ('regionnet' / 'pixelnet') for its model file, or
        'targets' for the scores of what that iteration's PixelNet trains on.

        Worked example, with the default comparisons: the no-saliency run
        (results/ablation/no_saliency) differs from the main run only from the refinement on.
        Its iteration-1 seeds and regions have the signature ('weak', 1, 'seeds') /
        ('weak', 1, 'regions'), the same as the main run's, so their home is 'results' and the
        comparison run reads results/iter1/seeds/... without making its own. Its iteration-1
        PixelNet is trained on the RegionNet regions rather than on refined ones: the signature
        ('weak', 1, 'train_masks', False) differs from the main run's (..., True), so that
        artifact is its own, under results/ablation/no_saliency/iter1/. The direct run shares
        all of iteration 1 with the main run, and nothing after.
        """
        check = {**MODEL_STAGES, TARGETS: TRAIN_MASKS}.get(stage, stage)
        if check not in self.stages(root, k):
            raise PlanError(f"{root}: iteration {k} has no {stage}")
        wanted = self.signature(root, k, check)
        for candidate in self.runs:
            try:
                if check in self.stages(candidate, k) and self.signature(candidate, k, check) == wanted:
                    return candidate
            except PlanError:
                continue
        return root

    # paths, through the one layout

    def artifact(self, root: str, k: int, stage: str, shard: int | str) -> str:
        """Path of one shard of a stage as the run sees it (in the run directory that makes it)."""
        return layout.artifact(self.home(root, k, stage), k, stage, shard)

    def artifacts(self, root: str, k: int, stage: str) -> list[str]:
        """Every shard file of a stage of an iteration."""
        return [self.artifact(root, k, stage, s) for s in range(self.shards[layout.split_of(stage)])]

    def model(self, root: str, k: int, network: str) -> str:
        return layout.model(self.home(root, k, network), k, network)

    def stage_metrics(self, root: str, k: int, stage: str) -> str:
        return layout.stage_metrics(self.home(root, k, stage), k, stage)
