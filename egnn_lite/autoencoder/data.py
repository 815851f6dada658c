"""The graph datasets of the paper's autoencoder experiment (Sec. 5.2), generated as its official code does.

Two families, each with 5,000 / 500 / 500 graphs (train / val / test, seeds 0 / 1 / 2), returned as
symmetric boolean adjacency matrices without self-loops:

    community_small   two communities of 6 to 10 nodes each (12 to 20 nodes), edge probability 0.7
                      inside a community, 0.01 between communities, and at least one edge between them
    erdos_renyi       7 to 16 nodes (500 graphs of each size in the training split), edge probability 0.25

The generators follow the official code (ae_datasets/d_creator.py in github.com/vgsatorras/egnn)
draw for draw, without networkx: networkx's ``gnp_random_graph`` is a loop over the node pairs
(i, j), i < j, in order, adding each edge when ``rng.random() < p``, and that loop is written out
here with the same random streams (Python's ``random`` and numpy's legacy ``RandomState``).

One property of the official Community generator is kept on purpose, because it shapes the data:
each community is drawn with ``seed=i`` (0 for the first community, 1 for the second), so every
community of a given size is the *same* graph in every sample. The samples differ in the sizes of
the two communities and in the edges between them. ``overfit=True`` gives the paper's overfitting
set: 100 Erdős–Rényi graphs, 10 of each size, seed 3.
"""

from __future__ import annotations

import itertools
import random

import numpy as np

__all__ = ["SPLITS", "community_small", "erdos_renyi", "edge_density"]

SPLITS = {"train": (0, 5000), "val": (1, 500), "test": (2, 500)}  # split -> (seed, number of graphs)
ER_SIZES = tuple(range(7, 17))
COMMUNITY_SIZES = (6, 7, 8, 9, 10)


def _split(split: str) -> tuple[int, int]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {tuple(SPLITS)}, got {split!r}")
    return SPLITS[split]


def _gnp(n: int, p: float, rng: random.Random) -> np.ndarray:
    """networkx.gnp_random_graph(n, p) with ``rng`` as its random stream: each pair i < j, in order."""
    A = np.zeros((n, n), dtype=bool)
    for i, j in itertools.combinations(range(n), 2):
        if rng.random() < p:
            A[i, j] = A[j, i] = True
    return A


def _components(A: np.ndarray) -> list[list[int]]:
    """Connected components, in the order networkx lists them (by their smallest node), each sorted."""
    seen, out = set(), []
    for start in range(len(A)):
        if start in seen:
            continue
        comp, frontier = {start}, [start]
        while frontier:
            frontier = [j for i in frontier for j in np.flatnonzero(A[i]) if j not in comp and not comp.add(j)]
        seen |= comp
        out.append(sorted(int(c) for c in comp))
    return out


def _n_community(sizes, state: np.random.RandomState, p_in: float = 0.7, p_inter: float = 0.01) -> np.ndarray:
    n = int(sum(sizes))
    A = np.zeros((n, n), dtype=bool)
    start = 0
    for i, size in enumerate(sizes):  # seed=i, as in the official code: the same graph for the same size
        A[start:start + size, start:start + size] = _gnp(int(size), p_in, random.Random(i))
        start += size
    comps = _components(A)  # the official code links every pair of connected components
    for a in range(len(comps)):
        for b in range(a + 1, len(comps)):
            linked = False
            for n1 in comps[a]:
                for n2 in comps[b]:
                    if state.rand() < p_inter:
                        A[n1, n2] = A[n2, n1] = True
                        linked = True
            if not linked:
                A[comps[a][0], comps[b][0]] = A[comps[b][0], comps[a][0]] = True
    return A


def community_small(split: str = "train", *, n: int | None = None) -> list[np.ndarray]:
    """The Community Small split ``split`` (or its first ``n`` graphs), as adjacency matrices."""
    seed, count = _split(split)
    state = np.random.RandomState(seed)
    count = count if n is None else int(n)
    return [_n_community(state.choice(COMMUNITY_SIZES, 2), state) for _ in range(count)]


def erdos_renyi(split: str = "train", *, p: float = 0.25, overfit: bool = False) -> list[np.ndarray]:
    """The Erdős–Rényi split ``split`` (sizes 7 to 16, shuffled), or the 100-graph overfitting set."""
    seed, count = (3, 100) if overfit else _split(split)
    rng = random.Random(seed)
    graphs = [_gnp(size, p, rng) for _ in range(count // len(ER_SIZES)) for size in ER_SIZES]
    rng.shuffle(graphs)
    return graphs


def edge_density(graphs) -> float:
    """Edges over possible edges (off-diagonal entries), pooled over all graphs: the error of predicting no edges."""
    edges = sum(int(A.sum()) for A in graphs)
    possible = sum(len(A) * (len(A) - 1) for A in graphs)
    return edges / possible
