"""The autoencoder datasets: the official generators' graphs, draw for draw, and their properties."""

import hashlib
import itertools
import random

import numpy as np
import pytest

from egnn_lite.autoencoder.data import SPLITS, _components, _gnp, community_small, edge_density, erdos_renyi


def digest(graphs):
    h = hashlib.sha256()
    for A in graphs:
        h.update(np.packbits(A).tobytes())
        h.update(bytes([len(A)]))
    return h.hexdigest()[:16]


def test_test_splits_are_the_official_generators_graphs():
    """Digests of the graphs that the official code (ae_datasets/d_creator.py) makes with networkx 3.6.1,
    which this module matched graph for graph when it was written; the densities are the paper's
    all-zero baselines (31.79 % for Community Small; 25.13 % printed for Erdős–Rényi)."""
    com, er = community_small("test"), erdos_renyi("test")
    assert digest(com) == "8e2bd33b98b6a305" and digest(er) == "482f92081b80dde6"
    assert digest(erdos_renyi(overfit=True)) == "8dbef94f1c83e24a"
    assert round(100 * edge_density(com), 2) == 31.79
    assert abs(100 * edge_density(er) - 25.13) < 0.05


@pytest.mark.parametrize("make", [community_small, erdos_renyi])
def test_graphs_are_simple_undirected_and_seeded(make):
    a, b = make("val"), make("val")
    assert len(a) == SPLITS["val"][1]
    for A, B in zip(a, b):
        assert A.dtype == bool and (A == A.T).all() and not A.diagonal().any() and (A == B).all()
    assert digest(make("val")) != digest(make("test"))


def test_community_small_is_two_fixed_communities_linked():
    """Each graph is two communities of 6 to 10 nodes, joined by at least one edge. As in the official
    code, community i is drawn with seed=i, so the sizes alone fix both communities' inner edges."""
    for A in community_small("train", n=300):
        n = len(A)
        assert 12 <= n <= 20 and len(_components(A)) == 1
        splits = [a for a in range(6, 11) if 6 <= n - a <= 10
                  and (A[:a, :a] == _gnp(a, 0.7, random.Random(0))).all() and (A[a:, a:] == _gnp(n - a, 0.7, random.Random(1))).all()]
        assert splits, f"a graph of {n} nodes is not two seeded communities"
        a = splits[0]
        assert A[:a, a:].sum() >= 1


def test_erdos_renyi_sizes_and_overfit_set():
    train = erdos_renyi("train")
    sizes = np.bincount([len(A) for A in train])
    assert (sizes[7:17] == 500).all() and sizes.sum() == 5000
    over = erdos_renyi(overfit=True)
    assert len(over) == 100 and (np.bincount([len(A) for A in over])[7:17] == 10).all()
    assert abs(edge_density(train) - 0.25) < 0.005


def test_bad_split_is_named():
    with pytest.raises(ValueError, match="split must be one of"):
        community_small("validation")


# --------------------------------------------------------------------------------------------
# new draws, the overlap of the splits, graph files
# --------------------------------------------------------------------------------------------

from egnn_lite.autoencoder.data import GraphFileError, isomorphic, load_graphs, save_graphs, seen_in  # noqa: E402


def test_seeds_draw_new_sets_and_the_default_is_the_split():
    assert digest(community_small("test", seed=2)) == digest(community_small("test"))  # the test split's own seed
    assert digest(community_small("test", seed=7)) != digest(community_small("test"))
    assert digest(community_small("test", seed=7)) == digest(community_small("test", seed=7))
    assert digest(erdos_renyi("test", seed=7)) != digest(erdos_renyi("test")) and len(erdos_renyi("test", seed=7)) == 500
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        community_small("test", seed=-1)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        erdos_renyi("test", seed=1.5)


def test_fresh_communities_are_drawn_anew():
    """Still two communities of 6-10 nodes at p = 0.7, linked, but no longer the official code's seeded ones."""
    fixed = {a: _gnp(a, 0.7, random.Random(0)) for a in range(6, 11)}
    graphs = community_small("test", n=200, fresh_communities=True)
    assert digest(graphs) == digest(community_small("test", n=200, fresh_communities=True))  # seeded
    same_as_fixed = 0
    for A in graphs:
        assert 12 <= len(A) <= 20 and len(_components(A)) == 1 and (A == A.T).all()
        same_as_fixed += any(a <= len(A) - 6 and (A[:a, :a] == fixed[a]).all() for a in range(6, 11))
    assert same_as_fixed < 10
    assert not seen_in(graphs, community_small("train")).any()
    assert abs(edge_density(community_small("test", fresh_communities=True)) - 0.3179) < 0.05


def _brute_isomorphic(A, B):
    n = len(A)
    return A.shape == B.shape and any((A[np.ix_(p, p)] == B).all() for p in map(list, itertools.permutations(range(n))))


def test_isomorphic_against_brute_force():
    rng = np.random.default_rng(0)
    agree = {True: 0, False: 0}
    for _ in range(150):
        n = int(rng.integers(2, 7))
        A = np.triu(rng.random((n, n)) < 0.4, 1)
        A = A | A.T
        if rng.random() < 0.5:  # a relabelled copy
            p = rng.permutation(n)
            B = A[np.ix_(p, p)]
        else:  # an independent graph with the same number of edges, often the same degree sequence
            B = np.zeros_like(A)
            iu = np.triu_indices(n, 1)
            pick = rng.choice(len(iu[0]), size=int(A.sum() // 2), replace=False)
            B[iu[0][pick], iu[1][pick]] = True
            B = B | B.T
        want = _brute_isomorphic(A, B)
        assert isomorphic(A, B) == want
        agree[want] += 1
    assert agree[True] > 50 and agree[False] > 20  # both answers were exercised


def test_isomorphic_is_not_fooled_by_colour_refinement():
    """A 6-cycle and two triangles: every node has degree 2, so 1-WL gives every node one colour.
    The search must still say no; and two relabelled 6-cycles are the same graph."""
    cycle = np.zeros((6, 6), bool)
    for i in range(6):
        cycle[i, (i + 1) % 6] = cycle[(i + 1) % 6, i] = True
    triangles = np.zeros((6, 6), bool)
    for block in ((0, 1, 2), (3, 4, 5)):
        for i, j in itertools.combinations(block, 2):
            triangles[i, j] = triangles[j, i] = True
    assert not isomorphic(cycle, triangles)
    p = [3, 0, 5, 1, 4, 2]
    assert isomorphic(cycle, cycle[np.ix_(p, p)])


def test_the_community_small_overlap():
    """The official generator reuses one community per size: 383 of the 500 test graphs are training
    graphs too, 365 of them as the very same matrix. Erdős–Rényi repeats only up to relabelling."""
    train, test = community_small("train"), community_small("test")
    exact = {np.packbits(A).tobytes() + bytes([len(A)]) for A in train}
    same_matrix = sum(np.packbits(A).tobytes() + bytes([len(A)]) in exact for A in test)
    seen = seen_in(test, train)
    assert same_matrix == 365 and int(seen.sum()) == 383
    er = seen_in(erdos_renyi("test"), erdos_renyi("train"))
    assert int(er.sum()) == 97
    # negative control: a relabelled copy of a training graph is seen, the same graph with one edge moved is not
    A = train[0].copy()
    p = np.random.default_rng(1).permutation(len(A))
    moved = A.copy()
    i, j = map(int, np.argwhere(np.triu(A, 1))[0])
    k = next(k for k in range(len(A)) if k not in (i, j) and not A[i, k])
    moved[i, j] = moved[j, i] = False
    moved[i, k] = moved[k, i] = True
    flags = seen_in([A[np.ix_(p, p)], moved], [A])
    assert flags.tolist() == [True, False]


def test_graph_files_round_trip_and_say_what_is_wrong(tmp_path):
    graphs = community_small("test", n=5) + erdos_renyi("test")[:3]
    path = save_graphs(tmp_path / "g.npz", graphs)
    back = load_graphs(path)
    assert len(back) == 8 and all(a.dtype == bool and (a == b).all() for a, b in zip(back, graphs))
    assert not list(tmp_path.glob(".*.tmp"))
    bad = {
        "asym.npz": (np.array([[[0, 1], [0, 0]]]), np.array([2]), "not symmetric"),
        "loop.npz": (np.array([[[1, 0], [0, 0]]]), np.array([2]), "self-loops"),
        "values.npz": (np.array([[[0, 2], [2, 0]]]), np.array([2]), "0 or 1"),
        "corner.npz": (np.array([[[0, 1], [1, 0]]]), np.array([1]), "outside its 1 x 1 corner"),
        "sizes.npz": (np.zeros((1, 2, 2)), np.array([3]), "n_nodes must lie"),
    }
    for name, (adjacency, n_nodes, match) in bad.items():
        np.savez(tmp_path / name, adjacency=adjacency, n_nodes=n_nodes)
        with pytest.raises(GraphFileError, match=match):
            load_graphs(tmp_path / name)
    np.savez(tmp_path / "keys.npz", A=np.zeros((2, 2)))
    with pytest.raises(GraphFileError, match=r"lacks \['adjacency', 'n_nodes'\]"):
        load_graphs(tmp_path / "keys.npz")
    (tmp_path / "junk.npz").write_bytes(b"no zip")
    with pytest.raises(GraphFileError, match="could not be read"):
        load_graphs(tmp_path / "junk.npz")
    with pytest.raises(GraphFileError, match="does not exist"):
        load_graphs(tmp_path / "none.npz")
    with pytest.raises(GraphFileError, match="square"):
        save_graphs(tmp_path / "x.npz", [np.zeros((2, 3))])
