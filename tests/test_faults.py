"""A narrow target stays honest: a result whose input is gone is computed again, after the input
is made again, where Snakemake alone says "Nothing to be done" (snakemake/snakemake#1978)."""

from __future__ import annotations

import os

import pytest
from workflow_utils import copy_run, planned_jobs, snakemake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def iteration_one(iteration_one_run, tmp_path_factory):
    """A copy of a finished results/iter1/miou.txt run (two training shards)."""
    return copy_run(iteration_one_run.workdir, tmp_path_factory.mktemp("narrow") / "run")


def plan(workdir, target):
    return planned_jobs(snakemake(workdir, "-n", "--cores", "2", target).stdout)


def test_an_input_gone_under_a_result_the_target_needs(iteration_one):
    """miou.txt's inputs are all there; the RegionNet metrics it is made from miss a shard."""
    shard = iteration_one / "results/iter1/regions/shard0.h5"
    aside = shard.with_name("kept.h5")
    os.replace(shard, aside)
    try:
        jobs = plan(iteration_one, "results/iter1/miou.txt")
    finally:
        os.replace(aside, shard)  # back, with its own modification time
    assert jobs["infer_regionnet"] == 1 and jobs["evaluate"] == 1
    assert {"refine_regions", "train_pixelnet"} <= set(jobs)  # what was made from the shard
    assert not {"train_regionnet", "seeds_from_cam", "make_cams"} & set(jobs)
    assert plan(iteration_one, "results/iter1/miou.txt") == {}


def test_deleted_input_of_a_narrow_target_is_made_again(iteration_one):
    target = "results/iter1/seeds_metrics.json"
    metrics = (iteration_one / target).read_text()
    shard = iteration_one / "results/iter1/seeds/shard0.h5"
    shard.unlink()
    assert plan(iteration_one, target) == {"seeds_from_cam": 1, "evaluate_stage": 1}
    snakemake(iteration_one, "--cores", "2", target)
    assert shard.exists() and (iteration_one / target).read_text() == metrics
    again = snakemake(iteration_one, "-n", "--cores", "2", target)
    assert "Nothing to be done" in again.stdout + again.stderr
