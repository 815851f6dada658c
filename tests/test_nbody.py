"""The charged-particle simulator of the N-body experiment (paper Sec. 5.1)."""

import numpy as np
import pytest
import torch

from egnn_lite.checks import check_equivariance
from egnn_lite.graphs import fully_connected
from egnn_lite.nbody import PROTOCOL, Protocol, coulomb_forces, frame_step, initial_state, simulate

NO_LIMIT = Protocol(force_limit=None)


def official_loop(loc, vel, charges, T, sample_freq=100, dt=0.001, max_F=np.inf):
    """The official generator's integrator, transcribed for one trajectory (loc, vel: (3, N)).

    Returns the recorded positions and velocities, frame k being the state after step 100 (k + 1).
    """
    edges = charges[:, None] * charges[None, :]
    n = loc.shape[1]

    def force(loc):
        r = loc.T[:, None, :] - loc.T[None, :, :]  # (N, N, 3): x_i - x_j
        d3 = ((r**2).sum(-1)) ** 1.5
        np.fill_diagonal(d3, np.inf)
        F = ((edges / d3)[:, :, None] * r).sum(1).T  # (3, N)
        return np.clip(F, -max_F, max_F)

    locs, vels = [], []
    vel = vel + dt * force(loc)
    for i in range(1, T):
        loc = loc + dt * vel
        if i % sample_freq == 0:
            locs.append(loc.copy())
            vels.append(vel.copy())
        vel = vel + dt * force(loc)
    return np.stack(locs), np.stack(vels)


def test_frames_and_integrator_match_the_official_generator():
    x0, v0, q = initial_state(3, seed=11)
    X, V = simulate(x0, v0, q, [0, 7, 12], protocol=NO_LIMIT)
    for b in range(3):
        locs, vels = official_loop(x0[b].numpy().T, v0[b].numpy().T, q[b].numpy(), T=1400)
        for k, f in enumerate([0, 7, 12]):
            np.testing.assert_allclose(X[b, k].numpy(), locs[f].T, rtol=0, atol=1e-9)
            np.testing.assert_allclose(V[b, k].numpy(), vels[f].T, rtol=0, atol=1e-9)


def test_frame_numbering():
    assert frame_step(30) == 3100 and frame_step(40) == 4100 and frame_step(0) == 100


def test_forces_newton_coulomb_and_the_norm_limit():
    x = torch.tensor([[[0.0, 0, 0], [2.0, 0, 0], [0, 3.0, 0]]], dtype=torch.float64)
    q = torch.tensor([[1.0, 1.0, -1.0]], dtype=torch.float64)
    F = coulomb_forces(x, q, force_limit=None)
    # on particle 0: from 1 (like, repels along -x): 1/4; from 2 (unlike, attracts along +y): 1/9
    assert torch.allclose(F[0, 0], torch.tensor([-0.25, 1 / 9, 0], dtype=torch.float64), atol=1e-15)
    assert F.sum(dim=1).abs().max() < 1e-15  # Newton's third law
    limited = coulomb_forces(x, q, force_limit=0.2)
    norms = limited.norm(dim=-1)
    assert norms.max() <= 0.2 + 1e-15
    big = F.norm(dim=-1) > 0.2
    cos = (limited * F).sum(-1) / (norms * F.norm(dim=-1))
    assert big.any() and torch.allclose(cos, torch.ones_like(cos))  # direction kept
    assert torch.equal(limited[0, ~big[0]], F[0, ~big[0]])  # small forces untouched


def test_initial_state_follows_the_protocol():
    x0, v0, q = initial_state(4000, seed=0)
    assert x0.shape == v0.shape == (4000, 5, 3) and q.shape == (4000, 5)
    assert torch.allclose(v0.norm(dim=-1), torch.full((4000, 5), 0.5, dtype=torch.float64))
    assert set(q.unique().tolist()) == {-1.0, 1.0} and abs((q > 0).double().mean().item() - 0.5) < 0.02
    assert abs(x0.std().item() - 1.0) < 0.02 and abs(x0.mean().item()) < 0.02


def test_seeded_and_bit_identical():
    a = simulate(*initial_state(20, seed=3), [2, 4])
    b = simulate(*initial_state(20, seed=3), [2, 4])
    c = simulate(*initial_state(20, seed=4), [2, 4])
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])


def test_momentum_is_conserved_without_the_limit():
    x0, v0, q = initial_state(50, seed=5)
    X, V = simulate(x0, v0, q, [5], protocol=NO_LIMIT)
    p0 = (v0 + PROTOCOL.dt * coulomb_forces(x0, q, force_limit=None)).sum(dim=1)
    assert (V[:, 0].sum(dim=1) - p0).abs().max() < 1e-12


def _one(h, x, edge_index, v, limit=PROTOCOL.force_limit, component_clip=None):
    q = h[:, 0].unsqueeze(0)
    if component_clip is None:
        X, V = simulate(x.unsqueeze(0), v.unsqueeze(0), q, [3], protocol=Protocol(force_limit=limit))
        return X[0, 0], V[0, 0]
    # the official per-component clip, in the same integrator written out: the negative control
    def force(y):
        return coulomb_forces(y, q, force_limit=None).clamp(-component_clip, component_clip)

    dt, last = PROTOCOL.dt, frame_step(3)
    xx, vv = x.unsqueeze(0), v.unsqueeze(0) + dt * force(x.unsqueeze(0))
    for i in range(1, last + 1):
        xx = xx + dt * vv
        if i < last:
            vv = vv + dt * force(xx)
    return xx[0], vv[0]


def test_simulator_is_E3_equivariant_and_the_official_clip_is_not():
    x0, v0, q = initial_state(1, seed=8)
    h, x, v = q[0].unsqueeze(1), x0[0], v0[0]
    ei = fully_connected(5)
    # a limit small enough to act on every step, so the check covers it
    report = check_equivariance(lambda h, x, ei, v: _one(h, x, ei, v, limit=0.05), h, x, ei, v=v, outputs=("position", "vector"))
    assert report.passed, report
    assert check_equivariance(_one, h, x, ei, v=v, outputs=("position", "vector")).passed
    clipped = check_equivariance(lambda h, x, ei, v: _one(h, x, ei, v, component_clip=0.05), h, x, ei, v=v, outputs=("position", "vector"))
    assert clipped.worst("rotation") > 1e-6 and clipped.worst("translation") < 1e-10
    # the written-out loop is the same integrator: with a clip too large to act, it equals simulate()
    same = _one(h, x, ei, v, component_clip=1e300)
    free = _one(h, x, ei, v, limit=None)
    assert torch.allclose(same[0], free[0], atol=1e-12) and torch.allclose(same[1], free[1], atol=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: initial_state(0, seed=0), "n_traj"),
        (lambda: simulate(*initial_state(2, seed=0), []), "at least one frame"),
        (lambda: simulate(*initial_state(2, seed=0), [-1]), ">= 0"),
        (lambda: coulomb_forces(torch.zeros(5, 3), torch.zeros(5)), r"\(B, N, n\)"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_the_clip_convention_is_the_official_generator():
    """forces="clip" clips each force component to +-100, as the official synthetic_sim.py does: the
    integrator written out above, with max_F = 100, on trajectories where the clip acts."""
    x0, v0, q = initial_state(40, seed=21)
    clip = Protocol(forces="clip")
    X, V, acted = simulate(x0, v0, q, [0, 12], protocol=clip, count_limited=True)
    picks = [int(b) for b in torch.nonzero(acted > 0)[:3, 0]]
    assert len(picks) == 3, "seed 21 should give trajectories where the clip acts"
    for b in picks:
        locs, vels = official_loop(x0[b].numpy().T, v0[b].numpy().T, q[b].numpy(), T=1400, max_F=100.0)
        np.testing.assert_allclose(X[b, 1].numpy(), locs[12].T, rtol=0, atol=1e-8)
        np.testing.assert_allclose(V[b, 1].numpy(), vels[12].T, rtol=0, atol=1e-8)
    # where neither limit acts, the two conventions are the same simulation, bit for bit
    Xn, _, acted_n = simulate(x0, v0, q, [0, 12], count_limited=True)
    quiet = (acted == 0) & (acted_n == 0)
    assert quiet.any() and torch.equal(X[quiet], Xn[quiet])
    assert not torch.allclose(X[acted > 0], Xn[acted > 0])


def test_the_limit_counter():
    x0, v0, q = initial_state(30, seed=2)
    *_, none = simulate(x0, v0, q, [3], protocol=NO_LIMIT, count_limited=True)
    *_, tight = simulate(x0, v0, q, [3], protocol=Protocol(force_limit=1e-3), count_limited=True)
    *_, loose = simulate(x0, v0, q, [3], protocol=Protocol(force_limit=0.5), count_limited=True)
    assert none.dtype == torch.int64 and (none == 0).all()
    assert (tight == frame_step(3)).all()  # every evaluation: the kick and steps 1 .. 399
    assert (loose <= tight).all() and (loose < tight).any()


def test_the_clip_convention_is_not_rotation_equivariant():
    """The simulator itself through the harness: a tight norm limit passes, the same clip per component fails."""
    x0, v0, q = initial_state(1, seed=8)
    h, x, v, ei = q[0].unsqueeze(1), x0[0], v0[0], fully_connected(5)

    def run(forces):
        def f(h, x, ei, v):
            X, V = simulate(x.unsqueeze(0), v.unsqueeze(0), h[:, 0].unsqueeze(0), [3], protocol=Protocol(force_limit=0.05, forces=forces))
            return X[0, 0], V[0, 0]
        return check_equivariance(f, h, x, ei, v=v, outputs=("position", "vector"))

    assert run("norm").passed
    clipped = run("clip")
    assert not clipped.passed and clipped.worst("rotation") > 1e-6 and clipped.worst("translation") < 1e-10


def test_an_unknown_convention_is_named():
    with pytest.raises(ValueError, match="forces must be one of"):
        Protocol(forces="clamp")
    with pytest.raises(ValueError, match="forces must be one of"):
        coulomb_forces(torch.zeros(1, 2, 3), torch.ones(1, 2), forces="box")
