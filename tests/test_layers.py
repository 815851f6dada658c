"""Each equation of the layer against a direct, loop-by-loop reading of the paper."""

import pytest
import torch
from torch import nn

from egnn_lite.layers import EGCL, MessageMLP, aggregate, coordinate_update, edge_inference, node_update, relative_differences
from tests.conftest import random_graph

torch.manual_seed(0)


def small_layer(**kw):
    torch.manual_seed(1)
    return EGCL(3, 16, 3, edge_nf=2, **kw).double()


def loop_reference(layer, h, x, ei, a, v=None):
    """Eq. 3-8 written as plain loops over nodes and neighbours, straight from the paper."""
    N = x.shape[0]
    nbrs = {i: [] for i in range(N)}
    for k, (i, j) in enumerate(ei.T.tolist()):
        nbrs[i].append((j, k))
    h_new, x_new, v_new = [], [], []
    for i in range(N):
        m_i = torch.zeros(layer.hidden_nf, dtype=h.dtype)
        move = torch.zeros(x.shape[1], dtype=x.dtype)
        for j, k in nbrs[i]:
            d2 = ((x[i] - x[j]) ** 2).sum().reshape(1)
            z = torch.cat([h[i], h[j], d2, a[k]])
            m_ij = layer.phi_e.act(layer.phi_e.linear_out(layer.phi_e.act(layer.phi_e.linear_in(z))))  # Eq. 3
            e_ij = torch.sigmoid(layer.phi_inf(m_ij)) if layer.infer_edges else 1.0  # Eq. 8
            m_i = m_i + e_ij * m_ij  # Eq. 5
            move = move + (x[i] - x[j]) * layer.phi_x(m_ij)  # Eq. 4 sum
        C = 1.0 / max(len(nbrs[i]), 1) if layer.coords_agg == "mean" else 1.0
        if v is None:
            x_new.append(x[i] + C * move)  # Eq. 4
        else:
            v_i = layer.phi_v(h[i]) * v[i] + C * move  # Eq. 7
            v_new.append(v_i)
            x_new.append(x[i] + v_i)
        out = layer.phi_h(torch.cat([h[i], m_i]))  # Eq. 6
        h_new.append(h[i] + out if layer.residual else out)
    out = (torch.stack(h_new), torch.stack(x_new))
    return out if v is None else out + (torch.stack(v_new),)


@pytest.mark.parametrize(
    "kw",
    [{}, {"residual": False}, {"coords_agg": "sum"}, {"infer_edges": True}, {"coords_range": None}, {"coords_range": 0.5, "coords_agg": "sum"}],
    ids=["default", "printed-eq6", "C=1", "edge-inference", "unbounded-phi_x", "bounded-sum"],
)
@pytest.mark.parametrize("with_v", [False, True], ids=["eq4", "eq7"])
def test_layer_matches_the_equations_written_as_loops(kw, with_v):
    h, x, ei, a, v = random_graph(3, 6, 3, density=0.6, edge_nf=2)
    layer = small_layer(**kw)
    with torch.no_grad():
        got = layer(h, x, ei, a, v if with_v else None)
        want = loop_reference(layer, h, x, ei, a, v if with_v else None)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w, rtol=1e-12, atol=1e-12)


def test_message_mlp_split_evaluation_equals_the_concatenation():
    h, x, ei, a, _ = random_graph(4, 9, 3, density=0.8, edge_nf=2)
    torch.manual_seed(0)
    phi_e = MessageMLP(3, 2, 16).double()
    _, d2 = relative_differences(x, ei)
    torch.testing.assert_close(phi_e(h, d2, ei, a), phi_e.naive(h, d2, ei, a), rtol=1e-13, atol=1e-13)
    phi_e0 = MessageMLP(3, 0, 16).double()
    torch.testing.assert_close(phi_e0(h, d2, ei), phi_e0.naive(h, d2, ei), rtol=1e-13, atol=1e-13)


def test_equation_functions_on_a_tiny_hand_example():
    x = torch.tensor([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]], dtype=torch.float64)
    ei = torch.tensor([[0, 0, 1], [1, 2, 0]])
    diff, d2 = relative_differences(x, ei)
    assert torch.equal(diff, torch.tensor([[-3.0, 0.0], [0.0, -4.0], [3.0, 0.0]], dtype=torch.float64))
    assert torch.equal(d2.squeeze(1), torch.tensor([9.0, 16.0, 9.0], dtype=torch.float64))
    w = torch.tensor([[1.0], [0.5], [2.0]], dtype=torch.float64)
    # node 0: C = 1/2, sum = (-3, 0)*1 + (0, -4)*0.5 = (-3, -2) -> (-1.5, -1); node 1: (3,0)*2 = (6, 0); node 2 has no neighbours
    C = torch.tensor([[0.5], [1.0], [1.0]], dtype=torch.float64)
    assert torch.equal(coordinate_update(x, diff, w, ei, C), torch.tensor([[-1.5, -1.0], [9.0, 0.0], [0.0, 4.0]], dtype=torch.float64))
    m = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=torch.float64)
    assert torch.equal(aggregate(m, ei, 3), torch.tensor([[4.0, 6.0], [5.0, 6.0], [0.0, 0.0]], dtype=torch.float64))
    e = torch.tensor([[0.0], [1.0], [0.5]], dtype=torch.float64)
    assert torch.equal(aggregate(m, ei, 3, e), torch.tensor([[3.0, 4.0], [2.5, 3.0], [0.0, 0.0]], dtype=torch.float64))
    phi = nn.Linear(2, 1).double()
    assert torch.allclose(edge_inference(phi, m), torch.sigmoid(phi(m)))
    phi_h = nn.Linear(4, 2).double()
    hh = torch.ones(3, 2, dtype=torch.float64)
    mi = aggregate(m, ei, 3)
    assert torch.equal(node_update(phi_h, hh, mi, residual=False), phi_h(torch.cat([hh, mi], 1)))
    assert torch.equal(node_update(phi_h, hh, mi, residual=True), hh + phi_h(torch.cat([hh, mi], 1)))


@pytest.mark.parametrize("kw", [{}, {"coords_agg": "sum"}, {"normalize": True}])
def test_one_node_graphs_and_isolated_nodes_stay_finite_and_unmoved(kw):
    torch.manual_seed(0)
    layer = EGCL(3, 8, **kw).double()
    h = torch.randn(1, 3, dtype=torch.float64)
    x = torch.randn(1, 3, dtype=torch.float64)
    h1, x1 = layer(h, x, torch.empty(2, 0, dtype=torch.long))
    assert torch.isfinite(h1).all() and torch.equal(x1, x)
    # node 2 has no neighbours in a 3-node graph; it keeps its position, gets m_i = 0
    h, x, ei = torch.randn(3, 3, dtype=torch.float64), torch.randn(3, 3, dtype=torch.float64), torch.tensor([[0, 1], [1, 0]])
    h3, x3, v3 = layer(h, x, ei, v=torch.zeros(3, 3, dtype=torch.float64))
    assert torch.isfinite(h3).all() and torch.equal(x3[2], x[2]) and torch.equal(v3[2], torch.zeros(3, dtype=torch.float64))
    torch.testing.assert_close(h3[2], h[2] + layer.phi_h(torch.cat([h[2], torch.zeros(8, dtype=torch.float64)])))


def test_update_coords_false_keeps_x_and_normalize_bounds_the_step():
    h, x, ei, _, _ = random_graph(5, 8, 3, density=1.0)
    torch.manual_seed(0)
    frozen = EGCL(3, 8, update_coords=False).double()
    assert torch.equal(frozen(h, x, ei)[1], x)
    # normalised differences and a bounded weight: no point moves further than coords_range,
    # however large the cloud
    layer = EGCL(3, 8, normalize=True, coords_range=0.3).double()
    for p in layer.phi_x.parameters():
        nn.init.normal_(p, std=10.0)
    x_big = 1e4 * x
    step = (layer(h, x_big, ei)[1] - x_big).norm(dim=1)
    assert step.max() <= 0.3 * (1 + 1e-12)
    assert step.max() > 0.1  # and it does move


def test_layer_constructor_rejects_bad_options():
    with pytest.raises(ValueError, match="coords_agg"):
        EGCL(3, 8, coords_agg="max")
    with pytest.raises(ValueError, match="residual"):
        EGCL(3, 8, out_nf=4)
    with pytest.raises(ValueError, match="coords_range"):
        EGCL(3, 8, coords_range=0)
    EGCL(3, 8, out_nf=4, residual=False)  # the printed Eq. 6 may change width
