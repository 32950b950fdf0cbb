"""Splitting an image list into shards so that per-image stages run as a few jobs, not thousands."""

from __future__ import annotations


def shard_ids(ids: list[str], shard: int, n_shards: int) -> list[str]:
    """The shard-th of n_shards contiguous, near-equal slices of ids (sizes differ by at most 1)."""
    if not 0 <= shard < n_shards:
        raise ValueError(f"shard {shard} is not in 0..{n_shards - 1}")
    n = len(ids)
    start = shard * n // n_shards
    stop = (shard + 1) * n // n_shards
    return ids[start:stop]
