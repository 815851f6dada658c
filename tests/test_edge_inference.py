"""Eq. 8, soft edges e_ij: invariant (checked with the harness's edge_invariant kind), used in Eq. 5 only."""

import copy

import pytest
import torch

from egnn_lite.checks import check_equivariance
from egnn_lite.layers import EGCL
from egnn_lite.models import EGNN
from tests.conftest import random_graph


def model(dtype=torch.float64, edge_nf=2, seed=0):
    torch.manual_seed(seed)
    return EGNN(3, 16, 2, 3, in_edge_nf=edge_nf, infer_edges=True).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("seed", range(3))
def test_soft_edges_of_every_layer_are_invariant(dtype, seed):
    h, x, ei, a, _ = random_graph(seed, 8, 3, density=0.7, edge_nf=2, dtype=dtype)
    m = model(dtype, seed=seed)
    e = m.edge_weights(h, x, ei, a)
    assert e.shape == (3, ei.shape[1]) and (e > 0).all() and (e < 1).all()
    # the harness permutes and reorders the edges, so per-edge outputs are compared edge by edge
    report = check_equivariance(lambda *args, **kw: m.edge_weights(*args, **kw).T, h, x, ei, a, outputs=("edge_invariant",))
    assert report.passed, report


def test_negative_controls_for_edge_outputs():
    h, x, ei, _, _ = random_graph(1, 8, 3, density=0.7)
    # a score read from a raw coordinate difference: translation-invariant, not rotation-invariant
    raw = check_equivariance(lambda h, x, ei: torch.sigmoid(x[ei[0], :1] - x[ei[1], :1]), h, x, ei, outputs=("edge_invariant",))
    assert raw.worst("rotation") > 1e-2 and raw.worst("translation") < 1e-12 and raw.worst("permutation") < 1e-12
    # a score that reads the receiving node's label: E(n)-invariant, breaks under relabelling
    label = check_equivariance(lambda h, x, ei: ei[0].double().unsqueeze(1), h, x, ei, outputs=("edge_invariant",))
    assert label.worst("rotation") == 0 and label.worst("permutation") > 1e-2


def test_soft_edges_gate_the_aggregation_and_not_the_coordinates():
    h, x, ei, a, _ = random_graph(2, 7, 3, density=0.8, edge_nf=2)
    torch.manual_seed(0)
    layer = EGCL(3, 16, edge_nf=2, infer_edges=True).double()
    plain = copy.deepcopy(layer)
    plain.infer_edges, plain.phi_inf = False, None
    with torch.no_grad():  # e_ij = sigmoid(-50) ~ 0: every message switched off
        layer.phi_inf.weight.zero_()
        layer.phi_inf.bias.fill_(-50.0)
    h_e, x_e = layer(h, x, ei, a)
    h_p, x_p = plain(h, x, ei, a)
    h_none, _ = plain(h, x, ei[:, :0], a[:0])  # no neighbours at all
    assert torch.allclose(h_e, h_none, atol=1e-15)  # Eq. 5 gated to nothing
    assert not torch.allclose(h_e, h_p)
    assert torch.equal(x_e, x_p)  # Eq. 4 does not see e_ij (as printed; the official code gates it too)


def test_the_last_layers_soft_edges_get_no_gradient_from_a_loss_on_x():
    h, x, ei, a, _ = random_graph(3, 8, 3, density=0.7, edge_nf=2)
    m = model()
    _, x_out = m(h, x, ei, a)
    x_out.pow(2).sum().backward()
    grads = [layer.phi_inf.weight.grad for layer in m.layers]
    assert all(g is not None and g.abs().max() > 0 for g in grads[:-1])
    assert grads[-1] is None  # not even on the autograd path: its h^L is read by nothing that reaches x


def test_edge_weights_needs_infer_edges():
    h, x, ei, _, _ = random_graph(0, 5, 3)
    with pytest.raises(ValueError, match="infer_edges=True"):
        EGNN(3, 8, 1, 2).double().edge_weights(h, x, ei)
    with pytest.raises(ValueError, match="infer_edges=True"):
        EGCL(3, 8).double().edge_weights(h, x, ei)
