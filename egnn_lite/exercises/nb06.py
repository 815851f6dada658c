"""Checkers for the exercises of notebooks/06 (the graph autoencoder).

6.1  the distance decoder A_hat_ij = sigmoid(w ||z_i - z_j||^2 + b), zero diagonal: invariant under
     z -> z Q^T + g, and a relabelling of the nodes permutes its rows and columns
6.2  the paper's scores: the fraction of wrong off-diagonal entries (threshold 0.5) and F1, both
     pooled over all the graphs of a set
6.3  colour refinement (1-WL): the classes of nodes that a noiseless message-passing encoder
     cannot tell apart

Each verdict names what is wrong: a diagonal left at sigmoid(b), a distance that is not squared,
w and b swapped, a dot product; the diagonal counted, per-graph averages, a percentage; one round
of refinement only, a set where a multiset is needed.

A node's own colour left out of 6.3's update is not a mistake it can detect: the partitions that
refinement goes through are the same with or without it (each new partition refines the last), so
the final classes are the same.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import Tensor

from ..autoencoder.model import DistanceDecoder, reconstruction_scores, wl_colours
from ..groups import random_orthogonal
from . import Incorrect, exercise, tensor_answer
from . import close as _close
from . import describe as _describe

F64 = torch.float64


# --------------------------------------------------------------------------------------------
# 6.1  the distance decoder
# --------------------------------------------------------------------------------------------

_DECODER_CASES = ((5, 2, -0.5, 1.5, 61), (8, 3, -1.2, 0.4, 62), (11, 8, -0.1, 1.0, 63))  # N, K, w, b, seed


def _reference_decode(z: Tensor, w: float, b: float) -> Tensor:
    decoder = DistanceDecoder().double()
    with torch.no_grad():
        decoder.w.fill_(w), decoder.b.fill_(b)  # in float64: DistanceDecoder(w, b) would round them to float32
        return decoder(z)


def _decoder_case(N: int, K: int, seed: int) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return 0.7 * torch.randn(N, K, generator=gen, dtype=F64)


def _diagnose_decode(got: Tensor, z: Tensor, w: float, b: float) -> str:
    N = z.shape[0]
    off = ~torch.eye(N, dtype=torch.bool)
    want = _reference_decode(z, w, b)
    d2 = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
    diag = got.diagonal()
    diag_note = ""
    if diag.abs().max() > 1e-12:
        sb = torch.sigmoid(torch.tensor(b, dtype=F64))
        diag_note = ("the diagonal was not zeroed (it holds sigmoid(b)): a node is not its own neighbour, so set A_hat_ii = 0"
                     if _close(diag, sb.expand(N)) else "the diagonal should be 0: a node is not its own neighbour")
    variants = [
        (want, None),
        (torch.sigmoid(w * d2.sqrt() + b), "you used the plain distance ||z_i - z_j||; the decoder uses its square, ||z_i - z_j||^2 (no square root)"),
        (torch.sigmoid(b * d2 + w), "w and b are swapped: w multiplies the squared distance and b is added, sigmoid(w ||z_i - z_j||^2 + b)"),
        (torch.sigmoid(w * (z @ z.T) + b), "that is a dot product, sigmoid(w z_i . z_j + b): it is not invariant under translation "
                                           "(z -> z + g changes z_i . z_j), so A_hat would depend on where the embedding sits. "
                                           "Use the squared distance ||z_i - z_j||^2"),
        (w * d2 + b, "the sigmoid is missing: A_hat_ij is a probability, sigmoid(w ||z_i - z_j||^2 + b)"),
    ]
    for wrong, reason in variants:
        if _close(got[off], wrong[off]):
            if reason is None:
                return diag_note
            return reason + (f"; and {diag_note}" if diag_note else "")
    return f"differs from sigmoid(w ||z_i - z_j||^2 + b) off the diagonal by up to {(got - want)[off].abs().max().item():.2e}"


@exercise("6.1", "the distance decoder sigmoid(w ||z_i - z_j||^2 + b)")
def check_decode(decode) -> str:
    for N, K, w, b, seed in _DECODER_CASES:
        z = _decoder_case(N, K, seed)
        raw = decode(z.clone(), w, b)
        got = tensor_answer(raw, "decode(z, w, b)", (N, N))
        if raw.dtype != z.dtype:
            raise Incorrect(f"z is {z.dtype} but your A_hat is {raw.dtype}: build every tensor in z's dtype (e.g. torch.eye(N, dtype=z.dtype))")
        if not _close(got, _reference_decode(z, w, b)):
            raise Incorrect(f"on z of shape ({N}, {K}), w = {w}, b = {b}: {_diagnose_decode(got, z, w, b)}")
    # invariance, on the K = 8 case: the same A_hat after z -> z Q^T + g, rows and columns permuted after a relabelling
    N, K, w, b, seed = _DECODER_CASES[-1]
    z = _decoder_case(N, K, seed)
    gen = torch.Generator().manual_seed(64)
    A = tensor_answer(decode(z.clone(), w, b), "decode(z, w, b)", (N, N))
    g = 3.0 * torch.randn(K, generator=gen, dtype=F64)
    worst = 0.0
    for name, det in (("a rotation and a translation", 1), ("a reflection and a translation", -1)):
        Q = random_orthogonal(K, det, generator=gen)
        moved = tensor_answer(decode(z @ Q.T + g, w, b), "decode(z, w, b)", (N, N))
        err = (moved - A).abs().max().item()
        if err > 1e-9:
            raise Incorrect(f"right on the plain inputs, but A_hat changes by up to {err:.1e} when z -> z Q^T + g ({name}): "
                            "it must depend on the distances between embeddings only")
        worst = max(worst, err)
    perm = torch.randperm(N, generator=gen)
    relabelled = tensor_answer(decode(z[perm].clone(), w, b), "decode(z, w, b)", (N, N))
    err = (relabelled - A[perm][:, perm]).abs().max().item()
    if err > 1e-9:
        raise Incorrect(f"right on the plain inputs, but relabelling the nodes does not just permute the rows and columns of A_hat (off by up to {err:.1e})")
    return (f"equal to sigmoid(w ||z_i - z_j||^2 + b) with a zero diagonal on {len(_DECODER_CASES)} embeddings (K = 2, 3 and 8), "
            f"unchanged by z -> z Q^T + g in 8 dimensions, rotation or reflection (worst change {worst:.0e}), and a relabelling permutes its rows and columns.")


# --------------------------------------------------------------------------------------------
# 6.2  % error and F1, pooled
# --------------------------------------------------------------------------------------------


def _noisy_graph(n: int, density: float, flip: float, gen: np.random.Generator, dtype) -> tuple[Tensor, np.ndarray]:
    """A random graph and symmetric predictions that are wrong on about a fraction ``flip`` of its pairs."""
    t = np.triu(gen.random((n, n)) < density, 1)
    t = t | t.T
    wrong = np.triu(gen.random((n, n)) < flip, 1)
    wrong = wrong | wrong.T
    margin = np.triu(gen.uniform(0.05, 0.5, (n, n)), 1)
    margin = margin + margin.T
    side = np.where(t ^ wrong, 1.0, -1.0)  # +1: predicted an edge
    p = 0.5 + side * margin
    np.fill_diagonal(p, gen.random(n))  # the diagonal is not scored: it may hold anything
    return torch.tensor(p, dtype=dtype), t


def _score_sets() -> list[tuple[str, list, list]]:
    """Two seeded sets. The first has a small, mostly wrong graph next to a large, mostly right one,
    so that pooled counts and per-graph averages differ clearly."""
    gen = np.random.default_rng(65)
    first = [_noisy_graph(n, d, f, gen, F64) for n, d, f in ((4, 0.6, 0.7), (24, 0.3, 0.04), (10, 0.4, 0.25))]
    second = [_noisy_graph(int(n), 0.35, 0.15, gen, torch.float32) for n in gen.integers(5, 19, size=6)]
    return [("3 graphs of 4, 24 and 10 nodes", [p for p, _ in first], [t for _, t in first]),
            ("6 random graphs of 5 to 18 nodes (float32 predictions, 0/1 integer targets)",
             [p for p, _ in second], [t.astype(np.int64) for _, t in second])]


def _number(value, name: str) -> float:
    if isinstance(value, bool):
        raise Incorrect(f"{name} should be a number, got a bool")
    if isinstance(value, (Tensor, np.ndarray)):
        if (value.size if isinstance(value, np.ndarray) else value.numel()) != 1:
            raise Incorrect(f"{name} should be one number, got a {type(value).__name__} of shape {tuple(value.shape)}")
        return float(value.item())
    if isinstance(value, numbers.Real):
        return float(value)
    raise Incorrect(f"{name} should be a number, got a {type(value).__name__}")


def _counts(preds, targets, diagonal: bool):
    """(wrong, possible, tp, fp, fn) per graph, the diagonal scored or not."""
    rows = []
    for p, t in zip(preds, targets):
        keep = torch.ones_like(p, dtype=torch.bool) if diagonal else ~torch.eye(p.shape[0], dtype=torch.bool)
        hard, truth = p[keep] > 0.5, torch.as_tensor(t)[keep].bool()
        rows.append((int((hard != truth).sum()), int(keep.sum()), int((hard & truth).sum()), int((hard & ~truth).sum()), int((~hard & truth).sum())))
    return rows


def _f1(tp, fp, fn) -> float:
    return tp / (tp + 0.5 * (fp + fn)) if tp + fp + fn else 1.0


_DIAGONAL = "the diagonal is counted: a node is not its own neighbour, so score only the off-diagonal entries (i != j)"
_PER_GRAPH = "per-graph averages: the paper pools the counts over the whole set (wrong entries over all entries, TP, FP and FN summed over the graphs), then divides once"
_SCORE_TOL = 1e-6  # ratios of counts; float32 answers are held to float32's precision
_PERCENT = "the error is in %; return it as a fraction (wrong entries over all off-diagonal entries, between 0 and 1)"


def _diagnose_scores(err: float, f1: float, want_err: float, want_f1: float, preds, targets) -> str:
    if abs(err - want_f1) < _SCORE_TOL and abs(f1 - want_err) < _SCORE_TOL:
        return "the two numbers are swapped: return (error, f1)"
    off, full = _counts(preds, targets, False), _counts(preds, targets, True)
    total = lambda rows, k: sum(r[k] for r in rows)  # noqa: E731
    err_variants = [
        (want_err, None),
        (total(full, 0) / total(full, 1), _DIAGONAL),
        (total(off, 0) / total(full, 1), _DIAGONAL),
        (float(np.mean([r[0] / r[1] for r in off])), _PER_GRAPH),
    ]
    f1_variants = [
        (want_f1, None),
        (_f1(total(full, 2), total(full, 3), total(full, 4)), _DIAGONAL),
        (float(np.mean([_f1(*r[2:]) for r in off])), _PER_GRAPH),
    ]
    reasons = []
    for value, reason in err_variants:
        if abs(err - value) < _SCORE_TOL:
            reasons.append(reason)
            break
        if abs(err - 100 * value) < 100 * _SCORE_TOL:
            reasons += [reason, _PERCENT]
            break
    else:
        reasons.append(f"the error should be {want_err:.4f}, got {err:.4f}")
    for value, reason in f1_variants:
        if abs(f1 - value) < _SCORE_TOL:
            reasons.append(reason)
            break
    else:
        reasons.append(f"F1 should be {want_f1:.4f}, got {f1:.4f}")
    reasons = list(dict.fromkeys(r for r in reasons if r))  # in order, once each
    return "; and ".join(reasons)


@exercise("6.2", "% error and F1, pooled over the set")
def check_edge_scores(edge_scores) -> str:
    lines = []
    for name, preds, targets in _score_sets():
        out = edge_scores([p.clone() for p in preds], [t.copy() for t in targets])
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise Incorrect(f"edge_scores should return two numbers, (error, f1); got {_describe(out)}")
        err, f1 = _number(out[0], "error"), _number(out[1], "f1")
        want = reconstruction_scores(preds, targets)
        if abs(err - want.error) > _SCORE_TOL or abs(f1 - want.f1) > _SCORE_TOL:
            raise Incorrect(f"on {name}: {_diagnose_scores(err, f1, want.error, want.f1, preds, targets)}")
        lines.append(f"{name}: error {err:.4f}, F1 {f1:.3f}")
    return "equal to the paper's scores, pooled over each set: " + "; ".join(lines) + "."


# --------------------------------------------------------------------------------------------
# 6.3  colour refinement
# --------------------------------------------------------------------------------------------


def _adjacency(n: int, edges) -> np.ndarray:
    A = np.zeros((n, n), dtype=np.int64)
    for i, j in edges:
        A[i, j] = A[j, i] = 1
    return A


def _small_graphs() -> list[tuple[str, np.ndarray]]:
    gen = np.random.default_rng(66)
    out = [
        ("a cycle of 6 nodes", _adjacency(6, [(k, (k + 1) % 6) for k in range(6)])),
        ("a path of 5 nodes", _adjacency(5, [(k, k + 1) for k in range(4)])),
        ("a star with 5 leaves", _adjacency(6, [(0, k) for k in range(1, 6)])),
        # degree 2 everywhere but the path's ends: the triangle and the path's middle differ one round later
        ("a triangle, a path of 3 nodes and an isolated node", _adjacency(7, [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5)])),
    ]
    for k, n in enumerate((9, 12, 15)):
        A = np.triu(gen.random((n, n)) < 0.22, 1)
        out.append((f"random graph {k + 1} ({n} nodes)", A | A.T))
    return out


def _partition(colours: np.ndarray) -> np.ndarray:
    """Which pairs of nodes share a colour: the partition, whatever the labels."""
    return colours[:, None] == colours[None, :]


def _colours(out, n: int) -> np.ndarray:
    if isinstance(out, Tensor):
        out = out.detach().cpu().numpy()
    try:
        arr = np.asarray(out)
    except Exception:  # a ragged list, say
        raise Incorrect(f"colour_refinement(A) should return an array of {n} integer colours, got {_describe(out)}") from None
    if arr.shape != (n,):
        got = _describe(out) + (f" of shape {arr.shape}" if arr.ndim else "")
        raise Incorrect(f"colour_refinement(A) should return one colour per node, an array of shape ({n},); got {got}")
    if arr.dtype.kind not in "iu":
        raise Incorrect(f"the colours should be integers (any labels: only which nodes share a colour matters), got dtype {arr.dtype}")
    return arr


def _one_round(A: np.ndarray) -> np.ndarray:
    return A.astype(bool).sum(1)  # every node starts with one colour, so one round leaves the degrees


def _as_set(A: np.ndarray) -> np.ndarray:
    """The refinement with each node's neighbour colours as a set: duplicates dropped."""
    A = A.astype(bool)
    n = len(A)
    colours = np.zeros(n, dtype=np.int64)
    while True:
        keys = [(int(colours[i]), tuple(sorted(set(colours[A[i]].tolist())))) for i in range(n)]
        table = {k: c for c, k in enumerate(sorted(set(keys)))}
        new = np.array([table[k] for k in keys], dtype=np.int64)
        if len(table) == len(set(colours.tolist())):
            return new
        colours = new


def _pair(mask: np.ndarray) -> tuple[int, int]:
    i, j = np.argwhere(np.triu(mask, 1))[0]
    return int(i), int(j)


@exercise("6.3", "colour refinement (1-WL)")
def check_colour_refinement(colour_refinement) -> str:
    from ..autoencoder import community_small

    graphs = _small_graphs()
    n_small = len(graphs)
    answers = [_colours(colour_refinement(A.copy()), len(A)) for _, A in graphs]  # the stub stops here, before the data
    community = community_small("test", n=20)
    graphs += [(f"Community Small test graph {k}", A) for k, A in enumerate(community)]
    answers += [_colours(colour_refinement(A.copy()), len(A)) for A in community]
    got = [_partition(c) for c in answers]
    want = [_partition(wl_colours(A)) for _, A in graphs]
    if all(np.array_equal(g, w) for g, w in zip(got, want)):
        classes = [len(set(wl_colours(A).tolist())) for _, A in graphs]
        return (f"the same classes as colour refinement on a cycle ({classes[0]} class), a path of 5 ({classes[1]}), a star ({classes[2]}), "
                f"{n_small - 3} more small graphs, and the first {len(community)} of Community Small's test split "
                f"({min(classes[n_small:])} to {max(classes[n_small:])} classes).")
    named = [
        (_one_round, "only one round of refinement: your classes are the degree classes. Repeat the update with the new colours "
                     "until the number of classes stops growing (on a path of 5 nodes the middle one has degree 2, like its two neighbours, yet refinement separates it)"),
        (_as_set, "the neighbours' colours were taken as a set (duplicates dropped): a node with three neighbours of colour c then looks "
                  "like a node with one. Keep the multiset: the sorted list of the neighbours' colours"),
    ]
    for variant, reason in named:
        if all(np.array_equal(g, _partition(variant(A))) for g, (_, A) in zip(got, graphs)):
            raise Incorrect(reason)
    k = next(k for k, (g, w) in enumerate(zip(got, want)) if not np.array_equal(g, w))
    name, (g, w) = graphs[k][0], (got[k], want[k])
    if (g | ~w).all():  # every class of the refinement inside one of yours: yours are coarser
        i, j = _pair(g & ~w)
        raise Incorrect(f"on {name}: nodes {i} and {j} share your colour, but refinement separates them: did you stop too early? "
                        "Repeat until the number of classes stops growing")
    if (w | ~g).all():
        i, j = _pair(w & ~g)
        raise Incorrect(f"on {name}: you give nodes {i} and {j} different colours, but no round of refinement can tell them apart "
                        "(the same colour, and the same multiset of neighbour colours, at every round)")
    i, j = _pair(g != w)
    same = "share a colour in yours and not in refinement's" if g[i, j] else "share a colour in refinement's and not in yours"
    raise Incorrect(f"on {name}: your classes differ from colour refinement's (nodes {i} and {j} {same})")
