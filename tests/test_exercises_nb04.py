"""The checkers of notebook 04's exercises: right answers are "correct", each typical mistake is
"not yet" with a reason that names it."""

import pytest
import torch

from exercise_tools import verdict
from egnn_lite.exercises.nb04 import grid, rebuilt_graph_report, reference_gated_x, ring
from egnn_lite.graphs import knn_graph
from egnn_lite.layers import aggregate, coordinate_update, edge_inference, edge_message, relative_differences

pytestmark = pytest.mark.usefixtures("lenient_exercises")


# ---------------------------------------------------------------- 4.1 soft aggregation


def soft(m_ij, logits, ei, N):
    return torch.zeros(N, m_ij.shape[1], dtype=m_ij.dtype).index_add_(0, ei[0], torch.sigmoid(logits) * m_ij)


def test_soft_aggregate_correct():
    assert verdict("4.1", soft)[0] == "correct"
    assert verdict("4.1", lambda m, l, ei, N: aggregate(m, ei, N, torch.sigmoid(l)))[0] == "correct"


def softmax_version(m_ij, logits, ei, N):
    w = torch.exp(logits[:, 0] - logits[:, 0].max())
    denom = torch.zeros(N, dtype=m_ij.dtype).index_add_(0, ei[0], w)
    return aggregate(m_ij, ei, N, (w / denom[ei[0]]).unsqueeze(1))


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda m, l, ei, N: aggregate(m, ei, N), "without weighting"),
        (lambda m, l, ei, N: aggregate(m, ei, N, l), "raw logit"),
        (softmax_version, "softmax"),
        (lambda m, l, ei, N: aggregate(m, ei.flip(0), N, torch.sigmoid(l)), "edge_index[0]"),
        (
            lambda m, l, ei, N: soft(m, l, ei, N) / torch.zeros(N).double().index_add_(0, ei[0], torch.ones(ei.shape[1]).double()).clamp_min(1)[:, None],
            "divided",
        ),
        (lambda m, l, ei, N: soft(m, l, ei, N)[:, :3], "shape"),
        (lambda m, l, ei, N: soft(m.float(), l.float(), ei, N), "dtype"),
        (lambda m, l, ei, N: 1.01 * soft(m, l, ei, N), "differs"),
    ],
)
def test_soft_aggregate_mistakes_are_named(answer, words):
    status, message = verdict("4.1", answer)
    assert status == "not yet" and words in message, message


# ---------------------------------------------------------------- 4.2 gating before phi_x


def test_gated_x_correct():
    assert verdict("4.2", reference_gated_x)[0] == "correct"


def gate_after(layer, h, x, ei):
    x_diff, sq = relative_differences(x, ei)
    m = edge_message(layer.phi_e, h, sq, ei)
    e = edge_inference(layer.phi_inf, m)
    return coordinate_update(x, x_diff, e * layer.phi_x(m), ei, layer.C(ei, x.shape[0], x))


def no_C(layer, h, x, ei):
    x_diff, sq = relative_differences(x, ei)
    m = edge_message(layer.phi_e, h, sq, ei)
    return coordinate_update(x, x_diff, layer.phi_x(edge_inference(layer.phi_inf, m) * m), ei, 1.0)


def no_sigmoid(layer, h, x, ei):
    x_diff, sq = relative_differences(x, ei)
    m = edge_message(layer.phi_e, h, sq, ei)
    return coordinate_update(x, x_diff, layer.phi_x(layer.phi_inf(m) * m), ei, layer.C(ei, x.shape[0], x))


def reads_raw_x():
    """Right values at the checker's first input, but it reads |x| there after: not equivariant."""
    first = {}

    def gated(layer, h, x, ei):
        first.setdefault("x", x.clone())
        return reference_gated_x(layer, h, x, ei) + 1e-3 * (x - first["x"]).abs()

    return gated


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda layer, h, x, ei: layer(h, x, ei)[1], "layer's own"),
        (gate_after, "phi_x(e_ij m_ij)"),
        (no_C, "C is missing"),
        (no_sigmoid, "raw output of phi_inf"),
        (lambda layer, h, x, ei: x, "differs"),
    ],
)
def test_gated_x_mistakes_are_named(answer, words):
    status, message = verdict("4.2", answer)
    assert status == "not yet" and words in message, message


def test_gated_x_that_is_not_equivariant_fails_in_the_harness():
    status, message = verdict("4.2", reads_raw_x())
    assert status == "not yet" and "harness" in message, message


# ---------------------------------------------------------------- 4.3 a kNN graph that keeps its ties


def tie_safe(x, k, rtol=1e-9):
    d = torch.cdist(x, x)
    d.fill_diagonal_(float("inf"))
    kth = d.sort(dim=1).values[:, k - 1 : k]
    i, j = (d <= kth * (1 + rtol)).nonzero(as_tuple=True)
    return torch.stack([i, j])


def test_tie_safe_knn_correct():
    status, message = verdict("4.3", tie_safe)
    assert status == "correct", message


def exact_ties(x, k):
    return tie_safe(x, k, rtol=0.0)


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda x, k: knn_graph(x, k), "still cut"),
        (exact_ties, "tolerance"),
        (lambda x, k: tie_safe(x, k, rtol=0.5), "extra edges"),
        (lambda x, k: tie_safe(x, k)[:, ::2], "receives from"),
        (lambda x, k: knn_graph(-x.norm(dim=1, keepdim=True) * x, k), "missing"),
        (lambda x, k: torch.cat([tie_safe(x, k), torch.tensor([[0], [0]])], 1), "self-loops"),
        (lambda x, k: tie_safe(x, k).float(), "dtype torch.float32"),
        (lambda x, k: tie_safe(x, k).flip(0), "rows are swapped"),
    ],
)
def test_tie_safe_knn_mistakes_are_named(answer, words):
    status, message = verdict("4.3", answer)
    assert status == "not yet" and words in message, message


def test_plain_knn_breaks_on_ties_and_the_tie_safe_graph_does_not():
    """The claim of notebook 04, Sec. 5: ties decide the kNN graph by rounding."""
    assert rebuilt_graph_report(lambda y: knn_graph(y, 1), ring()).worst("rotation") > 1e-6
    assert rebuilt_graph_report(lambda y: knn_graph(y, 4), grid()).worst("rotation") > 1e-6
    assert rebuilt_graph_report(lambda y: tie_safe(y, 1), ring()).passed


def test_checks_leave_the_global_random_state_alone():
    torch.manual_seed(123)
    want = torch.rand(3)
    torch.manual_seed(123)
    verdict("4.2", reference_gated_x)
    verdict("4.3", tie_safe)
    assert torch.equal(torch.rand(3), want)
