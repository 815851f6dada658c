"""Deep stacks and extreme coordinate scales with the default settings (a known failure elsewhere).

With an unbounded coordinate weight phi_x, the update (x_i - x_j) phi_x(m_ij) grows like s^3
when coordinates are scaled by s, and a 4-layer stack overflows float32 at s ~ 100. The default
layer bounds phi_x (see egnn_lite.layers); these tests hold it to that, and check that the
unbounded form really does blow up, so the tests would notice if the bound stopped working.
"""

import pytest
import torch

from egnn_lite import EGNN
from egnn_lite.checks import check_equivariance
from egnn_lite.graphs import fully_connected

SCALES = [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3]
RTOL = {torch.float64: 1e-12, torch.float32: 1e-5}


def cloud(seed, dtype, num_nodes=20):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(num_nodes, 1, generator=gen).to(dtype), torch.randn(num_nodes, 3, generator=gen).to(dtype), fully_connected(num_nodes)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("scale", SCALES)
def test_four_layer_default_egnn_is_finite_and_equivariant_at_every_scale(dtype, scale):
    for seed in range(3):
        torch.manual_seed(seed)
        model = EGNN(1, 64, 1, 4).to(dtype)  # default settings, default initialisation
        h, x, ei = cloud(seed, dtype)
        x = scale * x
        with torch.no_grad():
            h_out, x_out = model(h, x, ei)
        assert torch.isfinite(h_out).all() and torch.isfinite(x_out).all(), f"overflow at scale {scale}, seed {seed}"
        report = check_equivariance(model, h, x, ei, rtol=RTOL[dtype], draws=2, seed=seed)
        assert report.passed, f"scale {scale}, seed {seed}\n{report}"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_sixteen_layer_default_stack_stays_finite(dtype):
    for seed in range(3):
        torch.manual_seed(seed)
        model = EGNN(1, 64, 1, 16).to(dtype)
        h, x, ei = cloud(seed, dtype)
        out = model(h, x, ei)
        (out[0].square().sum() + out[1].square().sum()).backward()
        assert all(torch.isfinite(t).all() for t in out)
        assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_the_bound_is_what_keeps_it_finite():
    """Control: the same stack with the official code's unbounded phi_x overflows float32."""
    blew_up = 0
    for seed in range(3):
        torch.manual_seed(seed)
        model = EGNN(1, 64, 1, 4, coords_range=None)
        h, x, ei = cloud(seed, torch.float32)
        with torch.no_grad():
            h_out, x_out = model(h, 1e3 * x, ei)
        blew_up += not (torch.isfinite(h_out).all() and torch.isfinite(x_out).all())
    assert blew_up == 3
