"""Edge lists for EGNN (paper Sec. 3): complete graphs, batches of graphs, radius and kNN graphs.

Convention used by the whole package: ``edge_index`` is a (2, E) long tensor and column
``(i, j)`` is the directed edge along which node i receives the message m_ij from its
neighbour j. Every sum "over j != i" in the paper is a sum over the columns whose first entry
is i. Graphs of different sizes are batched by stacking their nodes and offsetting their edge
lists; ``batch`` (N,) then says which graph each node belongs to.

The builders here never make self-loops (i, i). The layers accept them all the same: a self-loop
adds nothing to x (x_i - x_i = 0) but does send a message m_ii to h and counts as a neighbour in
C, so an edge list with self-loops is a different graph, not an error.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy.spatial import cKDTree
from torch import Tensor

__all__ = ["fully_connected", "batch_index", "radius_graph", "knn_graph", "batch_graphs", "num_neighbours"]


def _sizes(sizes) -> list[int]:
    if isinstance(sizes, int):
        sizes = [sizes]
    sizes = [int(s) for s in sizes]
    if any(s < 0 for s in sizes):
        raise ValueError(f"graph sizes must be >= 0, got {sizes}")
    return sizes


def fully_connected(sizes: int | Sequence[int], *, device=None) -> Tensor:
    """All ordered pairs (i, j), i != j, inside each graph of a batch; no edges between graphs.

    ``fully_connected(5)`` is the complete graph on 5 nodes (20 edges);
    ``fully_connected([3, 5])`` is a batch of two graphs, nodes 0-2 and 3-7 (6 + 20 edges).
    """
    blocks = []
    offset = 0
    for s in _sizes(sizes):
        if s > 1:
            i, j = torch.meshgrid(torch.arange(s), torch.arange(s), indexing="ij")
            keep = i != j
            blocks.append(torch.stack([i[keep], j[keep]]) + offset)
        offset += s
    if not blocks:
        return torch.empty(2, 0, dtype=torch.long, device=device)
    return torch.cat(blocks, dim=1).to(device)


def batch_index(sizes: int | Sequence[int], *, device=None) -> Tensor:
    """The graph id of every node of a batch: ``batch_index([2, 3]) == tensor([0, 0, 1, 1, 1])``."""
    sizes = _sizes(sizes)
    return torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes, dtype=torch.long)).to(device)


def num_neighbours(edge_index: Tensor, num_nodes: int) -> Tensor:
    """How many messages node i receives (M - 1 for every node of a complete graph of M nodes)."""
    return torch.bincount(edge_index[0], minlength=num_nodes)


def _points_and_batch(x: Tensor, batch: Tensor | None):
    if x.dim() != 2:
        raise ValueError(f"x must have shape (N, n), got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError("x has non-finite coordinates (nan or inf)")
    pts = x.detach().cpu().double().numpy()
    if batch is None:
        b = np.zeros(len(pts), dtype=np.int64)
    else:
        if batch.shape != (x.shape[0],):
            raise ValueError(f"batch must have shape ({x.shape[0]},), got {tuple(batch.shape)}")
        b = batch.detach().cpu().numpy().astype(np.int64)
    return pts, b


def _to_edge_index(rows, x: Tensor) -> Tensor:
    if not rows:
        return torch.empty(2, 0, dtype=torch.long, device=x.device)
    e = np.concatenate(rows, axis=1)
    # a canonical order (by receiver, then neighbour) so equal graphs give equal edge lists
    order = np.lexsort((e[1], e[0]))
    return torch.from_numpy(np.ascontiguousarray(e[:, order])).long().to(x.device)


def radius_graph(x: Tensor, r: float, *, batch: Tensor | None = None) -> Tensor:
    """Edges (i, j), i != j, between points of the same graph with ||x_i - x_j|| <= r.

    Uses a k-d tree (scipy), so 10,000 points cost milliseconds, not an N x N matrix. The
    graph depends only on distances, so it is E(n)-invariant: rotating the cloud gives the same
    edges (up to points sitting exactly at distance r, where rounding can decide).
    """
    if not (r > 0 and np.isfinite(r)):
        raise ValueError(f"radius must be a positive finite number, got {r!r}")
    pts, b = _points_and_batch(x, batch)
    rows = []
    for g in np.unique(b):
        idx = np.flatnonzero(b == g)
        pairs = cKDTree(pts[idx]).query_pairs(r, output_type="ndarray")
        if len(pairs):
            i, j = idx[pairs[:, 0]], idx[pairs[:, 1]]
            rows.append(np.stack([np.concatenate([i, j]), np.concatenate([j, i])]))
    return _to_edge_index(rows, x)


def knn_graph(x: Tensor, k: int, *, batch: Tensor | None = None) -> Tensor:
    """Edges (i, j) from each node i to its k nearest other nodes j of the same graph.

    Node i receives from its k nearest neighbours (fewer if its graph has fewer than k + 1
    nodes). The result is directed: j may be among i's nearest without i being among j's.
    """
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    pts, b = _points_and_batch(x, batch)
    rows = []
    for g in np.unique(b):
        idx = np.flatnonzero(b == g)
        kk = min(int(k), len(idx) - 1)
        if kk < 1:
            continue
        _, nn = cKDTree(pts[idx]).query(pts[idx], k=kk + 1)
        nn = nn.reshape(len(idx), kk + 1)
        recv = np.repeat(np.arange(len(idx)), kk + 1)
        send = nn.reshape(-1)
        keep = recv != send  # drop the point itself (wherever ties put it)
        recv, send = recv[keep], send[keep]
        # with exact duplicates the point itself may not be returned; keep k per node
        counts = np.bincount(recv, minlength=len(idx))
        if (counts > kk).any():
            first = np.concatenate([[0], np.cumsum(counts)[:-1]])
            rank = np.arange(len(recv)) - np.repeat(first, counts)
            recv, send = recv[rank < kk], send[rank < kk]
        rows.append(np.stack([idx[recv], idx[send]]))
    return _to_edge_index(rows, x)


def batch_graphs(graphs: Sequence[dict]) -> dict:
    """Stack graphs of different sizes into one disconnected graph.

    Each graph is a dict with ``h`` (N, F), ``x`` (N, n), ``edge_index`` (2, E) and optionally
    ``edge_attr`` (E, A) and ``v`` (N, n). Returns the same keys for the batch, plus ``batch``
    (the graph id of each node) and ``sizes``.
    """
    if not graphs:
        raise ValueError("batch_graphs needs at least one graph")
    keys = set(graphs[0])
    for k, g in enumerate(graphs):
        missing = {"h", "x", "edge_index"} - set(g)
        if missing:
            raise ValueError(f"graph {k} is missing {sorted(missing)}")
        if set(g) != keys:
            raise ValueError(f"graph {k} has keys {sorted(g)}, graph 0 has {sorted(keys)}")
    sizes = [g["x"].shape[0] for g in graphs]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).tolist()
    out = {
        "h": torch.cat([g["h"] for g in graphs]),
        "x": torch.cat([g["x"] for g in graphs]),
        "edge_index": torch.cat([g["edge_index"] + o for g, o in zip(graphs, offsets)], dim=1),
        "batch": batch_index(sizes, device=graphs[0]["x"].device),
        "sizes": sizes,
    }
    for opt in ("edge_attr", "v"):
        if opt in keys:
            out[opt] = torch.cat([g[opt] for g in graphs])
    return out
