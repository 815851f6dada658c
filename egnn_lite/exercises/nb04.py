"""Checkers for the exercises of notebooks/04 (inferring edges and scaling).

4.1  Eq. 8 in the aggregation: m_i = sum_j e_ij m_ij with e_ij = sigmoid(logit_ij)
4.2  the official code's form of Eq. 8: m_ij -> e_ij m_ij *before* phi_x, still equivariant
4.3  a kNN graph that keeps every neighbour tied with the k-th, so that ties cannot break equivariance

Each verdict names what is wrong: a missing sigmoid, a softmax, the wrong end of the edge, a
transform that failed in the harness.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..checks import check_equivariance
from ..graphs import fully_connected, knn_graph
from ..layers import EGCL, aggregate, coordinate_update, edge_inference, edge_message, relative_differences
from ..models import EGNN
from . import Incorrect, exercise, tensor_answer

__all__ = ["reference_gated_x", "ring", "grid", "rebuilt_graph_report"]

F64 = torch.float64


def _graph(num_nodes: int = 7, seed: int = 41, density: float = 0.6) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    ei = fully_connected(num_nodes)
    ei = ei[:, torch.rand(ei.shape[1], generator=gen) < density]
    return ei[:, ei[0] != num_nodes - 1]  # the last node receives nothing: its m_i must be 0


def _close(a: Tensor, b: Tensor, tol: float = 1e-10) -> bool:
    return bool(((a - b).abs().max() <= tol * b.abs().max().clamp_min(1.0)).item())


# --------------------------------------------------------------------------------------------
# 4.1  soft aggregation
# --------------------------------------------------------------------------------------------


@exercise("4.1", "Eq. 8 in the aggregation: m_i = sum_j e_ij m_ij")
def check_soft_aggregate(soft_aggregate) -> str:
    N = 7
    ei = _graph(N)
    gen = torch.Generator().manual_seed(42)
    m_ij = torch.randn(ei.shape[1], 5, generator=gen, dtype=F64)
    logits = 2 * torch.randn(ei.shape[1], 1, generator=gen, dtype=F64)
    raw = soft_aggregate(m_ij.clone(), logits.clone(), ei.clone(), N)
    got = tensor_answer(raw, "soft_aggregate(m_ij, logits, edge_index, num_nodes)", (N, 5))
    if raw.dtype != m_ij.dtype:
        raise Incorrect(f"the messages are {m_ij.dtype} but your m_i is {raw.dtype}: build the zeros in the messages' dtype, m_ij.new_zeros(num_nodes, F)")
    e = torch.sigmoid(logits)
    want = aggregate(m_ij, ei, N, e)
    if _close(got, want):
        return f"m_i = sum_j sigmoid(logit_ij) m_ij on a graph of {ei.shape[1]} edges, equal to egnn_lite.layers.aggregate (node {N - 1}, with no incoming edge, gets 0)."
    counts = torch.zeros(N, dtype=F64).index_add_(0, ei[0], torch.ones(ei.shape[1], dtype=F64)).clamp_min(1).unsqueeze(1)
    w_soft = torch.exp(logits[:, 0] - logits[:, 0].max())
    denom = torch.zeros(N, dtype=F64).index_add_(0, ei[0], w_soft)
    softmax = (w_soft / denom[ei[0]]).unsqueeze(1)
    diagnoses = [
        (aggregate(m_ij, ei, N), "you summed m_ij without weighting it: multiply each m_ij by e_ij = sigmoid(logit_ij) first"),
        (aggregate(m_ij, ei, N, logits), "e_ij is sigmoid(logit_ij), a number in [0, 1]; you weighted by the raw logit"),
        (aggregate(m_ij, ei, N, softmax), "that is a softmax over each node's neighbours (attention); Eq. 8 squashes each edge on its own with a sigmoid, so the weights need not sum to 1 and a node can switch all its edges off"),
        (aggregate(m_ij, ei.flip(0), N, e), "column (i, j) of edge_index is the edge along which i receives from j: sum into edge_index[0], not edge_index[1]"),
        (want / counts, "Eq. 5 sums the weighted messages; you divided by the number of neighbours"),
    ]
    for wrong, reason in diagnoses:
        if _close(got, wrong):
            raise Incorrect(reason)
    raise Incorrect(f"differs from sum_j sigmoid(logit_ij) m_ij by up to {(got - want).abs().max().item():.2e}")


# --------------------------------------------------------------------------------------------
# 4.2  the official code's gating
# --------------------------------------------------------------------------------------------


def reference_gated_x(layer: EGCL, h: Tensor, x: Tensor, edge_index: Tensor) -> Tensor:
    """x^{l+1} with m_ij replaced by e_ij m_ij before phi_x, as in the paper's official code."""
    x_diff, sq_dist = relative_differences(x, edge_index)
    m_ij = edge_message(layer.phi_e, h, sq_dist, edge_index)
    e_ij = edge_inference(layer.phi_inf, m_ij)
    return coordinate_update(x, x_diff, layer.phi_x(e_ij * m_ij), edge_index, layer.C(edge_index, x.shape[0], x))


def _layer() -> EGCL:
    with torch.random.fork_rng(devices=[]):  # the reader's global random state is left as it was
        torch.manual_seed(43)
        layer = EGCL(4, 16, infer_edges=True).double()
        with torch.no_grad():  # a final weight of a visible size, so that the coordinate update is not ~1e-3 of x
            layer.phi_x[2].weight.normal_(0.0, 0.5)
            layer.phi_inf.bias.fill_(-0.5)
    return layer


@exercise("4.2", "the official code's form: e_ij gates m_ij before phi_x")
def check_gated_x(gated_x) -> str:
    N = 8
    layer = _layer()
    gen = torch.Generator().manual_seed(44)
    h = torch.randn(N, 4, generator=gen, dtype=F64)
    x = torch.randn(N, 3, generator=gen, dtype=F64)
    ei = fully_connected(N)
    got = tensor_answer(gated_x(layer, h.clone(), x.clone(), ei.clone()), "gated_x(layer, h, x, edge_index)", (N, 3))
    want = reference_gated_x(layer, h, x, ei)
    if not _close(got, want):
        x_diff, sq_dist = relative_differences(x, ei)
        m_ij = edge_message(layer.phi_e, h, sq_dist, ei)
        e_ij = edge_inference(layer.phi_inf, m_ij)
        C = layer.C(ei, N, x)
        if _close(got, layer(h, x, ei)[1]):
            raise Incorrect("that is the layer's own x^{l+1}, where e_ij never reaches phi_x (Eq. 4 as printed); multiply m_ij by e_ij before phi_x")
        if _close(got, coordinate_update(x, x_diff, e_ij * layer.phi_x(m_ij), ei, C)):
            raise Incorrect("you weighted phi_x(m_ij) by e_ij: that is equivariant too (e_ij is invariant), but the official code weights the message itself, phi_x(e_ij m_ij)")
        if _close(got, coordinate_update(x, x_diff, layer.phi_x(layer.phi_inf(m_ij) * m_ij), ei, C)):
            raise Incorrect("you weighted m_ij by the raw output of phi_inf; e_ij is its sigmoid, a number in (0, 1): use edge_inference(layer.phi_inf, m_ij)")
        if _close(got, coordinate_update(x, x_diff, layer.phi_x(e_ij * m_ij), ei, 1.0)):
            raise Incorrect("C is missing: this layer has coords_agg='mean', so C = 1/(M - 1); use layer.C(edge_index, num_nodes, x)")
        raise Incorrect(f"differs from x + C sum_j (x_i - x_j) phi_x(e_ij m_ij) by up to {(got - want).abs().max().item():.2e}")
    report = check_equivariance(lambda h_, x_, ei_: gated_x(layer, h_, x_, ei_), h, x, ei, outputs=("position",), names=("x",))
    if not report.passed:
        c = report.failures()[0]
        raise Incorrect(f"right values, but {c.transform} fails in the harness (relative error {c.max_rel:.1e}); does your function read the raw coordinates?")
    return f"equal to the official form, and E(3)-equivariant under all four transforms (worst relative error {report.worst():.1e}): e_ij is invariant, so gating m_ij before phi_x keeps Eq. 4 equivariant."


# --------------------------------------------------------------------------------------------
# 4.3  a kNN graph that keeps its ties
# --------------------------------------------------------------------------------------------


def ring(n: int = 12) -> Tensor:
    """n points evenly spaced on a unit circle in the plane z = 0: each has two nearest neighbours at equal distance."""
    t = torch.arange(n, dtype=F64) * (2 * torch.pi / n)
    return torch.stack([t.cos(), t.sin(), torch.zeros(n, dtype=F64)], dim=1)


def grid(side: int = 3) -> Tensor:
    """A side^3 cubic grid of spacing 1: up to six nearest neighbours at distance 1."""
    r = torch.arange(side, dtype=F64)
    return torch.cartesian_prod(r, r, r)


def rebuilt_graph_report(build, x: Tensor, seed: int = 45):
    """The harness report of an untrained EGNN whose graph is ``build(x)``, rebuilt from every transformed x.

    The nodes carry random features, so that swapping one neighbour for an equally distant one
    changes the messages (with identical features it would change only the direction of x_i - x_j).
    """
    x = x.to(F64)
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(x.shape[0], 4, generator=gen, dtype=F64)
    with torch.random.fork_rng(devices=[]):  # the reader's global random state is left as it was
        torch.manual_seed(seed)
        model = EGNN(4, 16, 4, 2).double()
    return check_equivariance(lambda h_, x_, ei_: model(h_, x_, build(x_)), h, x, fully_connected(x.shape[0]))


def _edge_set(ei: Tensor) -> set:
    return set(map(tuple, ei.t().tolist()))


@exercise("4.3", "a kNN graph that keeps its ties")
def check_tie_safe_knn(tie_safe_knn) -> str:
    gen = torch.Generator().manual_seed(46)
    cloud = torch.randn(30, 3, generator=gen, dtype=F64)
    cases = [("a random cloud, k = 4", cloud, 4), ("a ring of 12, k = 1", ring(12), 1), ("a 3 x 3 x 3 grid, k = 4", grid(3), 4)]
    worst = 0.0
    for name, x, k in cases:
        ei = tie_safe_knn(x.clone(), k)
        if not isinstance(ei, Tensor) or ei.dim() != 2 or ei.shape[0] != 2 or ei.dtype != torch.long:
            raise Incorrect(
                f"tie_safe_knn(x, k) should return a (2, E) long tensor, got {type(ei).__name__} of shape "
                f"{tuple(getattr(ei, 'shape', ()))}, dtype {getattr(ei, 'dtype', None)}"
            )
        if ei.numel() and (ei.min() < 0 or ei.max() >= x.shape[0]):
            raise Incorrect(f"on {name}: edge_index refers to nodes outside 0..{x.shape[0] - 1}")
        if bool((ei[0] == ei[1]).any()):
            raise Incorrect(f"on {name}: the graph has self-loops (i, i); leave each node out of its own neighbours")
        got, plain = _edge_set(ei), _edge_set(knn_graph(x, k))
        received = torch.zeros(x.shape[0], dtype=torch.long).index_add_(0, ei[0], torch.ones(ei.shape[1], dtype=torch.long))
        if bool((received < k).any()) and plain <= _edge_set(ei.flip(0)):
            raise Incorrect(f"on {name}: your rows are swapped: row 0 of edge_index is the node that receives (i), row 1 the neighbour it receives from (j)")
        if bool((received < k).any()):
            raise Incorrect(f"on {name}: node {int(torch.argmin(received))} receives from {int(received.min())} nodes; every node should keep at least its k = {k} nearest")
        if not plain <= got:
            raise Incorrect(f"on {name}: {len(plain - got)} edges of knn_graph(x, k) are missing; keep the k nearest, then add the ties")
        if name.startswith("a random") and got != plain:
            raise Incorrect(f"on {name}, where no two distances tie, the graph should equal knn_graph(x, k); yours has {len(got - plain)} extra edges (is the tolerance too loose?)")
        if not name.startswith("a random") and got == plain:
            raise Incorrect(f"on {name} your graph is exactly knn_graph(x, k): the ties at the k-th distance are still cut by rounding")
        report = rebuilt_graph_report(lambda y, k=k: tie_safe_knn(y, k), x)
        if not report.passed:
            c = report.failures()[0]
            raise Incorrect(
                f"on {name}: {c.transform} fails in the harness (relative error {c.max_rel:.1e}). After a rotation, tied distances "
                "differ by rounding (~1e-16): compare with a small relative tolerance, not exactly"
            )
        worst = max(worst, report.worst())
    return f"equal to knn_graph where nothing ties, keeps every tie on the ring and the grid, and the EGNN on it passes the harness on all three clouds (worst relative error {worst:.1e})."
