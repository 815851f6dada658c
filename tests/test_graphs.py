import pytest
import torch

from egnn_lite.graphs import batch_graphs, batch_index, fully_connected, knn_graph, num_neighbours, radius_graph
from egnn_lite.groups import random_orthogonal


def edge_set(ei):
    return set(map(tuple, ei.T.tolist()))


def test_fully_connected_counts_and_no_self_loops():
    ei = fully_connected(5)
    assert ei.shape == (2, 20) and ei.dtype == torch.long
    assert (ei[0] != ei[1]).all()
    assert edge_set(ei) == {(i, j) for i in range(5) for j in range(5) if i != j}


def test_fully_connected_batch_of_different_sizes_has_no_cross_edges():
    sizes = [3, 1, 0, 4]
    ei = fully_connected(sizes)
    b = batch_index(sizes)
    assert ei.shape[1] == 3 * 2 + 0 + 0 + 4 * 3
    assert torch.equal(b[ei[0]], b[ei[1]])
    assert torch.equal(num_neighbours(ei, 8), torch.tensor([2, 2, 2, 0, 3, 3, 3, 3]))
    assert fully_connected([1]).shape == (2, 0)


def brute_radius(x, r, batch):
    d = torch.cdist(x, x)
    same = batch[:, None] == batch[None, :]
    mask = (d <= r) & same & ~torch.eye(len(x), dtype=torch.bool)
    return {(int(i), int(j)) for i, j in mask.nonzero().tolist()}


def test_radius_graph_matches_brute_force_and_respects_batches():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(60, 3, generator=gen, dtype=torch.float64)
    batch = torch.repeat_interleave(torch.arange(3), torch.tensor([20, 25, 15]))
    ei = radius_graph(x, 0.9, batch=batch)
    assert edge_set(ei) == brute_radius(x, 0.9, batch)
    # E(n)-invariant: a rotated and translated cloud gives the same graph
    Q = random_orthogonal(3, generator=1)
    assert torch.equal(radius_graph(x @ Q.T + 3.0, 0.9, batch=batch), ei)


def test_knn_graph_matches_brute_force():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(30, 2, generator=gen, dtype=torch.float64)
    ei = knn_graph(x, 4)
    assert torch.equal(num_neighbours(ei, 30), torch.full((30,), 4))
    d = torch.cdist(x, x) + torch.diag(torch.full((30,), float("inf"), dtype=torch.float64))
    nearest = d.topk(4, largest=False).indices
    assert edge_set(ei) == {(i, int(j)) for i in range(30) for j in nearest[i]}
    # a graph smaller than k + 1 gets all its other nodes
    small = knn_graph(x[:3], 5)
    assert edge_set(small) == edge_set(fully_connected(3))


def test_graph_builders_reject_bad_input():
    with pytest.raises(ValueError, match="radius"):
        radius_graph(torch.randn(4, 3), -1.0)
    with pytest.raises(ValueError, match="k must"):
        knn_graph(torch.randn(4, 3), 0)
    with pytest.raises(ValueError, match="non-finite"):
        radius_graph(torch.tensor([[0.0, float("nan")]]), 1.0)


def test_batch_graphs_offsets_edges():
    g1 = {"h": torch.ones(2, 1), "x": torch.zeros(2, 3), "edge_index": fully_connected(2)}
    g2 = {"h": torch.ones(3, 1), "x": torch.ones(3, 3), "edge_index": fully_connected(3)}
    b = batch_graphs([g1, g2])
    assert b["sizes"] == [2, 3] and b["h"].shape == (5, 1)
    assert edge_set(b["edge_index"]) == edge_set(fully_connected([2, 3]))
    assert torch.equal(b["batch"], torch.tensor([0, 0, 1, 1, 1]))
    with pytest.raises(ValueError, match="missing"):
        batch_graphs([{"h": torch.ones(1, 1)}])
