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
the two communities and in the edges between them, so many graphs repeat: 383 of the 500 test
graphs are also in the training split, 365 of them as the very same matrix (``seen_in`` finds
them, relabelled copies included).
``fresh_communities=True`` draws every community anew instead. ``seed`` replaces a split's seed, to
draw new sets. ``overfit=True`` gives the paper's overfitting set: 100 Erdős–Rényi graphs, 10 of
each size, seed 3.

Sets of graphs travel as ``.npz`` files (``save_graphs`` / ``load_graphs``): ``adjacency``
(G, N_max, N_max), 0/1, each graph in its top-left corner, and ``n_nodes`` (G,).
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import numpy as np

from .._files import write_atomically

__all__ = ["SPLITS", "community_small", "erdos_renyi", "edge_density", "isomorphic", "seen_in", "save_graphs", "load_graphs", "GraphFileError"]

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


def _n_community(sizes, state: np.random.RandomState, p_in: float = 0.7, p_inter: float = 0.01, fresh: bool = False) -> np.ndarray:
    n = int(sum(sizes))
    A = np.zeros((n, n), dtype=bool)
    start = 0
    for i, size in enumerate(sizes):
        # seed=i, as in the official code: the same graph for the same size; fresh: a new draw every time
        rng = random.Random(int(state.randint(2**31)) if fresh else i)
        A[start:start + size, start:start + size] = _gnp(int(size), p_in, rng)
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


def community_small(split: str = "train", *, n: int | None = None, seed: int | None = None, fresh_communities: bool = False) -> list[np.ndarray]:
    """The Community Small split ``split`` (or its first ``n`` graphs), as adjacency matrices.

    ``seed`` replaces the split's seed (a new set of the split's size); ``fresh_communities=True``
    draws each community anew instead of the official code's one fixed graph per size.
    """
    split_seed, count = _split(split)
    state = np.random.RandomState(split_seed if seed is None else _seed(seed))
    count = count if n is None else int(n)
    return [_n_community(state.choice(COMMUNITY_SIZES, 2), state, fresh=fresh_communities) for _ in range(count)]


def _seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def erdos_renyi(split: str = "train", *, p: float = 0.25, overfit: bool = False, seed: int | None = None) -> list[np.ndarray]:
    """The Erdős–Rényi split ``split`` (sizes 7 to 16, shuffled), or the 100-graph overfitting set.

    ``seed`` replaces the split's (or the overfitting set's) seed: a new set of the same size.
    """
    split_seed, count = (3, 100) if overfit else _split(split)
    rng = random.Random(split_seed if seed is None else _seed(seed))
    graphs = [_gnp(size, p, rng) for _ in range(count // len(ER_SIZES)) for size in ER_SIZES]
    rng.shuffle(graphs)
    return graphs


def edge_density(graphs) -> float:
    """Edges over possible edges (off-diagonal entries), pooled over all graphs: the error of predicting no edges."""
    edges = sum(int(A.sum()) for A in graphs)
    possible = sum(len(A) * (len(A) - 1) for A in graphs)
    return edges / possible


# --------------------------------------------------------------------------------------------
# the same graph twice: exact copies and relabelled ones
# --------------------------------------------------------------------------------------------


def isomorphic(A, B) -> bool:
    """Whether graphs A and B are the same up to relabelling the nodes (exact: a backtracking search).

    Colour refinement (1-WL) on the two graphs side by side gives every node a colour that any
    isomorphism must keep; the search then maps A's nodes, rarest colour first, onto B's nodes of
    the same colour, checking every edge and non-edge as it goes. Instant for the graphs here
    (up to 20 nodes, few symmetries); highly symmetric graphs can take longer.
    """
    from .model import wl_colours

    A, B = np.asarray(A).astype(bool), np.asarray(B).astype(bool)
    n = len(A)
    if A.shape != B.shape or A.sum() != B.sum():
        return False
    if (A == B).all():
        return True
    union = np.zeros((2 * n, 2 * n), dtype=bool)
    union[:n, :n], union[n:, n:] = A, B
    c = wl_colours(union)
    cA, cB = c[:n], c[n:]
    if sorted(cA.tolist()) != sorted(cB.tolist()):
        return False
    counts = np.bincount(cA)
    order = sorted(range(n), key=lambda u: (counts[cA[u]], cA[u], u))
    image = [-1] * n
    used = [False] * n

    def extend(k: int) -> bool:
        if k == n:
            return True
        u = order[k]
        done = order[:k]
        for w in np.flatnonzero(cB == cA[u]).tolist():
            if used[w] or any(A[u, d] != B[w, image[d]] for d in done):
                continue
            image[u], used[w] = w, True
            if extend(k + 1):
                return True
            image[u], used[w] = -1, False
        return False

    return extend(0)


def seen_in(graphs, reference) -> np.ndarray:
    """For each graph of ``graphs``, whether ``reference`` holds it, exactly or relabelled: a (G,) bool array.

    ``seen_in(test, train)`` marks the test graphs that a model also met in training.
    """
    exact, buckets = set(), {}
    for R in reference:
        R = np.asarray(R).astype(bool)
        exact.add((len(R), np.packbits(R).tobytes()))
        key = (len(R), int(R.sum()), tuple(sorted(R.sum(0).tolist())))
        buckets.setdefault(key, {})[np.packbits(R).tobytes()] = R  # one copy of each distinct matrix
    out = np.zeros(len(graphs), dtype=bool)
    for k, G in enumerate(graphs):
        G = np.asarray(G).astype(bool)
        if (len(G), np.packbits(G).tobytes()) in exact:
            out[k] = True
            continue
        key = (len(G), int(G.sum()), tuple(sorted(G.sum(0).tolist())))
        out[k] = any(isomorphic(G, R) for R in buckets.get(key, {}).values())
    return out


# --------------------------------------------------------------------------------------------
# sets of graphs in files
# --------------------------------------------------------------------------------------------


class GraphFileError(ValueError):
    """A graph file is missing or not in the documented format; the message says what is wrong."""


def save_graphs(path, graphs) -> Path:
    """Write ``graphs`` (square 0/1 symmetric matrices) to ``path`` as .npz: ``adjacency`` (G, N_max, N_max), ``n_nodes`` (G,).

    Written to a temporary file first and renamed, so an interrupted write leaves no half file.
    """
    graphs = [_checked(np.asarray(A), f"graph {k}") for k, A in enumerate(graphs)]
    if not graphs:
        raise GraphFileError("no graphs to save")
    n_max = max(len(A) for A in graphs)
    adjacency = np.zeros((len(graphs), n_max, n_max), dtype=np.uint8)
    for k, A in enumerate(graphs):
        adjacency[k, :len(A), :len(A)] = A
    n_nodes = np.array([len(A) for A in graphs], dtype=np.int64)
    return write_atomically(path, lambda f: np.savez_compressed(f, adjacency=adjacency, n_nodes=n_nodes))


def _checked(A: np.ndarray, what: str) -> np.ndarray:
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] < 1:
        raise GraphFileError(f"{what}: an adjacency matrix is square, (n, n); got shape {A.shape}")
    if not np.isin(A, (0, 1)).all():
        raise GraphFileError(f"{what}: entries must be 0 or 1 (True or False)")
    A = A.astype(bool)
    if not (A == A.T).all():
        raise GraphFileError(f"{what}: the adjacency matrix is not symmetric (the graphs here are undirected)")
    if A.diagonal().any():
        raise GraphFileError(f"{what}: self-loops (a non-zero diagonal) are not allowed")
    return A


def load_graphs(path) -> list[np.ndarray]:
    """The graphs stored in ``path`` by ``save_graphs`` (or any .npz in its format), checked, as boolean matrices."""
    path = Path(path)
    if not path.exists():
        raise GraphFileError(f"{path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = {"adjacency", "n_nodes"} - set(z.files)
            if missing:
                raise GraphFileError(f"{path} lacks {sorted(missing)}; a graph file holds adjacency (G, N_max, N_max) and n_nodes (G,)")
            adjacency, n_nodes = z["adjacency"], z["n_nodes"]
    except GraphFileError:
        raise
    except Exception as err:
        raise GraphFileError(f"{path} could not be read as an .npz file ({err})") from None
    if adjacency.ndim != 3 or adjacency.shape[1] != adjacency.shape[2] or n_nodes.shape != adjacency.shape[:1]:
        raise GraphFileError(f"{path}: adjacency {adjacency.shape} and n_nodes {n_nodes.shape} do not fit (G, N_max, N_max) and (G,)")
    if len(n_nodes) == 0 or n_nodes.min() < 1 or n_nodes.max() > adjacency.shape[1]:
        raise GraphFileError(f"{path}: n_nodes must lie between 1 and N_max = {adjacency.shape[1]} (and there must be a graph)")
    graphs = []
    for k, (A, n) in enumerate(zip(adjacency, n_nodes.tolist())):
        if A[n:].any() or A[:, n:].any():
            raise GraphFileError(f"{path}: graph {k} has entries outside its {n} x {n} corner")
        graphs.append(_checked(A[:n, :n], f"{path}: graph {k}"))
    return graphs
