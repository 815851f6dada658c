"""Checkers for the exercises of notebooks/04 (inferring edges and scaling).

4.1  Eq. 8 in the aggregation: m_i = sum_j e_ij m_ij with e_ij = sigmoid(logit_ij)
4.2  the official code's form of Eq. 8: m_ij -> e_ij m_ij *before* phi_x, still equivariant
4.3  a point cloud on which the kNN graph breaks equivariance (ties at the k-th neighbour)

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
from . import Incorrect, exercise

__all__ = ["reference_gated_x", "knn_error"]

F64 = torch.float64


def _graph(num_nodes: int = 7, seed: int = 41, density: float = 0.6) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    ei = fully_connected(num_nodes)
    ei = ei[:, torch.rand(ei.shape[1], generator=gen) < density]
    return ei[:, ei[0] != num_nodes - 1]  # the last node receives nothing: its m_i must be 0


def _tensor(out, name: str, shape: tuple) -> Tensor:
    if not isinstance(out, Tensor):
        raise Incorrect(f"{name} should return a torch tensor, got {type(out).__name__}")
    if tuple(out.shape) != shape:
        raise Incorrect(f"{name} should return shape {shape}, got {tuple(out.shape)}")
    if not torch.isfinite(out).all():
        raise Incorrect(f"{name} returned NaN or inf")
    return out.to(F64)


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
    got = _tensor(soft_aggregate(m_ij.clone(), logits.clone(), ei.clone(), N), "soft_aggregate(m_ij, logits, edge_index, num_nodes)", (N, 5))
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
    got = _tensor(gated_x(layer, h.clone(), x.clone(), ei.clone()), "gated_x(layer, h, x, edge_index)", (N, 3))
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
        if _close(got, coordinate_update(x, x_diff, layer.phi_x(e_ij * m_ij), ei, 1.0)):
            raise Incorrect("C is missing: this layer has coords_agg='mean', so C = 1/(M - 1); use layer.C(edge_index, num_nodes, x)")
        raise Incorrect(f"differs from x + C sum_j (x_i - x_j) phi_x(e_ij m_ij) by up to {(got - want).abs().max().item():.2e}")
    report = check_equivariance(lambda h_, x_, ei_: gated_x(layer, h_, x_, ei_), h, x, ei, outputs=("position",), names=("x",))
    if not report.passed:
        c = report.failures()[0]
        raise Incorrect(f"right values, but {c.transform} fails in the harness (relative error {c.max_rel:.1e}); does your function read the raw coordinates?")
    return f"equal to the official form, and E(3)-equivariant under all four transforms (worst relative error {report.worst():.1e}): e_ij is invariant, so gating m_ij before phi_x keeps Eq. 4 equivariant."


# --------------------------------------------------------------------------------------------
# 4.3  ties break the kNN graph
# --------------------------------------------------------------------------------------------


def knn_error(x: Tensor, k: int, seed: int = 45) -> tuple[float, object]:
    """The harness's worst relative error, over rotations, of an EGNN run on knn_graph(x, k).

    The nodes carry random features, so that swapping one neighbour for an equally distant one
    changes the messages (with identical features it would change only the direction of x_i - x_j).
    """
    x = x.to(F64)
    gen = torch.Generator().manual_seed(seed)
    h = torch.randn(x.shape[0], 4, generator=gen, dtype=F64)
    torch.manual_seed(seed)
    model = EGNN(4, 16, 4, 2).double()

    def f(h_, x_, ei_):
        return model(h_, x_, knn_graph(x_, k))

    report = check_equivariance(f, h, x, fully_connected(x.shape[0]), transforms=("rotation", "reflection"))
    return report.worst(), report


@exercise("4.3", "a point cloud on which the kNN graph breaks equivariance")
def check_knn_ties(answer) -> str:
    if not (isinstance(answer, tuple) and len(answer) == 2):
        raise Incorrect("answer should be a pair (x, k): a tensor of shape (N, 3) and an integer k")
    x, k = answer
    if not isinstance(k, int) or k < 1:
        raise Incorrect(f"k should be a positive integer, got {k!r}")
    x = torch.as_tensor(x)
    if x.dim() != 2 or x.shape[1] != 3 or not torch.isfinite(x).all():
        raise Incorrect(f"x should be a finite tensor of shape (N, 3), got shape {tuple(x.shape)}")
    N = x.shape[0]
    if not 3 <= N <= 500:
        raise Incorrect(f"use between 3 and 500 points, got {N}")
    if k >= N - 1:
        raise Incorrect(f"with k = {k} >= N - 1 = {N - 1}, every point is joined to every other: that is the complete graph, which has no ties to break")
    err, report = knn_error(x, k)
    if err <= 1e-9:
        raise Incorrect(
            f"the kNN graph stayed equivariant (worst relative error {err:.1e}): every point's k-th and (k+1)-th nearest "
            "neighbours are at different distances, so rounding never decides. Make ties, e.g. points on a grid."
        )
    return f"under a rotation or reflection the kNN graph changes and the EGNN's output with it: relative error {err:.1e}, against 1e-12 for an exact symmetry. Rounding (~1e-16) decides which of the equally distant neighbours is kept."
