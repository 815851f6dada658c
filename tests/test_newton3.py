"""Newton's third law in the layer: symmetric pair weights and a fixed velocity scale conserve momentum."""

import pytest
import torch

from egnn_lite import EGNN
from egnn_lite.checks import assert_equivariant
from egnn_lite.graphs import fully_connected, knn_graph
from egnn_lite.layers import EGCL, reverse_edges, symmetric_pair_weights
from tests.conftest import random_graph

L, TAU = 4, 0.25  # 4 layers of a quarter time unit each: one time unit, as in the N-body task


def _stirred(model):
    """Parameters drawn large enough that every term of the layer matters (not the tame initial scale)."""
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.2 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return model


def _systems(B=3, n=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(B * n, 3, generator=gen, dtype=torch.float64)
    v = torch.randn(B * n, 3, generator=gen, dtype=torch.float64)
    ei = fully_connected([n] * B)
    a = torch.randn(ei.shape[1], 2, generator=gen, dtype=torch.float64)  # not symmetric: m_ij != m_ji
    return v.norm(dim=1, keepdim=True), x, ei, a, v


def momentum_error(model, B=3, n=5):
    """max over systems of |sum_i (x_out_i - x_i) - L tau sum_i v_i|: how far the centre of mass strays."""
    h, x, ei, a, v = _systems(B, n)
    with torch.no_grad():
        x_out = model(h, x, ei, a, v=v)[1]
    moved = (x_out - x).reshape(B, n, 3).sum(1)
    return (moved - L * TAU * v.reshape(B, n, 3).sum(1)).abs().max().item()


def test_reverse_edges_pairs_every_edge_with_its_reverse():
    ei = fully_connected([4, 3])
    rev = reverse_edges(ei, 7)
    assert torch.equal(ei[:, rev], ei.flip(0))
    assert torch.equal(rev[rev], torch.arange(ei.shape[1]))


def test_reverse_edges_refuses_a_directed_graph():
    x = torch.randn(12, 3, generator=torch.Generator().manual_seed(0))
    ei = knn_graph(x, 2)
    with pytest.raises(ValueError, match="no reverse"):
        reverse_edges(ei, 12)


def test_symmetric_pair_weights_are_symmetric_and_average_the_two_directions():
    ei = fully_connected(5)
    w = torch.randn(ei.shape[1], 1, dtype=torch.float64)
    s = symmetric_pair_weights(w, ei, 5)
    rev = reverse_edges(ei, 5)
    assert torch.equal(s, s[rev])
    torch.testing.assert_close(s, 0.5 * (w + w[rev]))


def test_newton3_with_a_fixed_velocity_scale_conserves_momentum_exactly():
    torch.manual_seed(0)
    model = _stirred(EGNN(1, 16, 1, L, 2, coords_range=None, newton3=True, velocity_scale=TAU).double())
    assert momentum_error(model) < 1e-12


@pytest.mark.parametrize("kw", [{}, {"newton3": True}, {"velocity_scale": TAU}], ids=["eq7", "newton3-only", "scale-only"])
def test_negative_controls_without_both_parts_do_not_conserve_momentum(kw):
    torch.manual_seed(0)
    model = _stirred(EGNN(1, 16, 1, L, 2, coords_range=None, **kw).double())
    assert momentum_error(model) > 1e-3


def test_newton3_model_is_still_e_n_equivariant():
    torch.manual_seed(0)
    model = _stirred(EGNN(1, 16, 1, L, 2, coords_range=None, newton3=True, velocity_scale=TAU).double())
    report = assert_equivariant(model, *_systems(), outputs=("invariant", "position", "vector"), rtol=1e-9)
    assert {c.transform for c in report.checks} == {"rotation", "reflection", "translation", "permutation"}


def test_newton3_layer_matches_its_loop_reading():
    h, x, ei, a, v = random_graph(2, 5, 3, density=1.0, edge_nf=2)
    torch.manual_seed(1)
    layer = _stirred(EGCL(3, 8, 3, edge_nf=2, newton3=True, velocity_scale=TAU, coords_range=None).double())
    with torch.no_grad():
        got = layer(h, x, ei, a, v)
        edge = {(i, j): k for k, (i, j) in enumerate(ei.T.tolist())}
        m = layer.phi_e(h, ((x[ei[0]] - x[ei[1]]) ** 2).sum(1, keepdim=True), ei, a)
        want_v = []
        for i in range(5):
            move = sum((x[i] - x[j]) * 0.5 * (layer.phi_x(m[edge[i, j]]) + layer.phi_x(m[edge[j, i]])) for j in range(5) if j != i)
            want_v.append(TAU * v[i] + move / 4)
    torch.testing.assert_close(got[2], torch.stack(want_v))
    torch.testing.assert_close(got[1], x + torch.stack(want_v))


def test_newton3_refuses_unequal_c_and_velocity_scale_has_no_parameters():
    h, x, ei, a, v = random_graph(0, 6, 3, density=1.0, edge_nf=0)
    keep = ~((ei[0] == 0) | (ei[1] == 0)) | ((ei[0] == 0) & (ei[1] == 1)) | ((ei[0] == 1) & (ei[1] == 0))
    ei = ei[:, keep]  # node 0 talks only to node 1: degrees differ, so C = 1/degree differs along edges
    with pytest.raises(ValueError, match="same C"):
        EGCL(3, 8, newton3=True).double()(h, x, ei)
    EGCL(3, 8, newton3=True, coords_agg="sum").double()(h, x, ei)  # C = 1 everywhere is fine
    with_scale = EGCL(3, 8, velocity_scale=0.5)
    assert sum(p.numel() for p in with_scale.phi_v.parameters()) == 0
    with pytest.raises(ValueError, match="velocity_scale"):
        EGCL(3, 8, velocity_scale="fast")
