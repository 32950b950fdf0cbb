import numpy as np
import pytest
import torch

from mcof.models.affinity import (AffinityNet, affinities, affinity_loss, neighbour_offsets,
                                  pair_indices, random_walk, transition_matrix)
from mcof.steps.affinity import confident_cam_labels


def test_pairs_on_a_tiny_grid():
    """2 x 3 grid, radius 1: the 4-neighbour edges, each once: 3 vertical and 4 horizontal."""
    first, second = pair_indices(2, 3, 1)
    pairs = sorted(zip(first.tolist(), second.tolist()))
    assert pairs == [(0, 1), (0, 3), (1, 2), (1, 4), (2, 5), (3, 4), (4, 5)]
    assert len(neighbour_offsets(2)) == 6  # (0,1) (0,2) (1,-1) (1,0) (1,1) (2,0)


def test_random_walk_on_a_hand_made_graph_equals_the_matrix_power():
    """Three cells in a row: 0 - 1 strongly linked (affinity 1), 1 - 2 weakly (0.5); beta 2.
    Rows of the transition matrix (self-loop 1): [1, 1, 0] / 2, [1, 1, 0.25] / 2.25,
    [0, 0.25, 1] / 1.25. The walked score of cell j is the average over where j's walk ends."""
    first, second = torch.tensor([0, 1]), torch.tensor([1, 2])
    t = transition_matrix(torch.tensor([1.0, 0.5]), first, second, 3, beta=2.0)
    expected = torch.tensor([[0.5, 0.5, 0.0], [1 / 2.25, 1 / 2.25, 0.25 / 2.25], [0.0, 0.2, 0.8]])
    torch.testing.assert_close(t, expected)
    scores = torch.tensor([[1.0, 0.0, 0.0]])  # a class seen only at cell 0
    walked = random_walk(scores, t, steps=4)
    direct = scores @ torch.linalg.matrix_power(expected, 4).T
    torch.testing.assert_close(walked, direct)
    assert walked[0, 1] > walked[0, 2]  # the score spreads along the strong link first
    torch.testing.assert_close(random_walk(torch.ones(1, 3), t, 8), torch.ones(1, 3))


def test_affinity_loss_balances_the_three_kinds_of_pair():
    labels = torch.tensor([[[0, 0, 1, 255]]])  # one row: bg, bg, class 1, unlabelled
    first, second = pair_indices(1, 4, 1)      # pairs (0,1) bg-bg, (1,2) neg, (2,3) ignored
    perfect = torch.tensor([[1.0, 0.0, 0.3]])
    loss, counts = affinity_loss(perfect, labels, first, second)
    assert counts == {"bg_pos": 1, "fg_pos": 0, "neg": 1}
    assert loss.item() == pytest.approx(0.0, abs=1e-4)
    wrong = torch.tensor([[0.5, 0.5, 0.3]])
    assert affinity_loss(wrong, labels, first, second)[0].item() == pytest.approx(-np.log(0.5), rel=1e-4)


def test_network_embeds_at_stride_four_and_affinities_are_one_for_equal_cells():
    torch.manual_seed(0)
    net = AffinityNet("tiny", dim=8).eval()
    emb = net(torch.rand(2, 3, 48, 40))
    assert emb.shape == (2, 8, 12, 10)
    first, second = pair_indices(12, 10, 2)
    a = affinities(emb, first, second)
    assert a.shape == (2, len(first)) and (a > 0).all() and (a <= 1).all()
    same = torch.zeros(1, 8, 2, 2)
    assert affinities(same, *pair_indices(2, 2, 1)).eq(1).all()


def test_confident_labels_from_cams():
    cams = np.array([[[0.9, 0.4, 0.05]], [[0.2, 0.8, 0.0]]], np.float32)
    labels = confident_cam_labels(cams, np.array([3, 5]), high=0.7, low=0.1)
    assert labels.tolist() == [[3, 5, 0]]
    assert confident_cam_labels(np.zeros((0, 1, 2)), np.array([]), 0.7, 0.1).tolist() == [[0, 0]]
