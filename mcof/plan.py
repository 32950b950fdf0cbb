"""Which artifacts an iteration of a run consists of, and where each one lives.

A run is the main one (under results/) or a comparison run (under results/ablation/<name>/)
that changes some of its settings: the paper's ablations ("direct" iterations without RegionNet,
no saliency refinement) and the fully supervised upper bound. Artifacts whose inputs do not
depend on the changed settings are shared: the no-saliency run reuses the main run's seeds and
RegionNet regions of iteration 1, the direct run all of iteration 1. The Snakemake input
functions ask this module for paths, so the sharing logic is tested without Snakemake.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

MAIN_ROOT = "results"
ABLATION_ROOT = "results/ablation"
MODES = ("mcof", "direct")
SUPERVISIONS = ("weak", "full")
MODEL_STAGES = {"regionnet": "regions", "pixelnet": "train_masks"}  # model file -> stage it makes


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


@dataclass(frozen=True)
class PixelNetTarget:
    """What PixelNet of an iteration is trained on: kind (regions | masks | ground_truth),
    the artifact stage, and the iteration that artifact belongs to."""

    kind: str
    stage: str | None = None
    iteration: int | None = None


class Plan:
    def __init__(self, main: RunSettings, comparisons: dict[str, dict] | None = None):
        self.runs: dict[str, RunSettings] = {MAIN_ROOT: main}
        for name, overrides in (comparisons or {}).items():
            self.runs[f"{ABLATION_ROOT}/{name}"] = replace(main, **overrides)

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
        if s.supervision == "full":
            if k != 1:
                raise PlanError(
                    f"{root}: a fully supervised run trains one PixelNet on the ground truth; "
                    "ask for iteration 1")
            return ["train_masks", "val_masks"]
        if k == 1:
            return ["seeds", "regions", *(["refined"] if s.saliency_refine else []),
                    "train_masks", "val_masks"]
        if s.mode == "direct":
            return ["train_masks", "val_masks"]
        return ["seeds", "regions", "train_masks", "val_masks"]

    def pixelnet_target(self, root: str, k: int) -> PixelNetTarget:
        s = self.settings(root)
        self.stages(root, k)
        if s.supervision == "full":
            return PixelNetTarget("ground_truth")
        if k == 1:
            return PixelNetTarget("regions", "refined" if s.saliency_refine else "regions", 1)
        if s.mode == "direct":
            return PixelNetTarget("masks", "train_masks", k - 1)
        return PixelNetTarget("regions", "regions", k)

    def signature(self, root: str, k: int, stage: str) -> tuple:
        """Everything an artifact depends on besides the shared earlier stages."""
        s = self.settings(root)
        if s.supervision == "full":
            return ("full", k, stage)
        if k == 1 and stage in ("seeds", "regions", "refined"):
            return ("weak", 1, stage)
        if k == 1:
            return ("weak", 1, stage, s.saliency_refine)
        return ("weak", k, stage, s.mode, s.saliency_refine)

    def home(self, root: str, k: int, stage: str) -> str:
        """The run directory that produces this artifact: the first run with the same signature.

        stage is a stage name or 'regionnet' / 'pixelnet' for the model files.
        """
        check = MODEL_STAGES.get(stage, stage)
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
