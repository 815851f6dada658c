"""The soft-sphere simulator of notebook 04: forces, the interaction graph, the integrator, equivariance."""

import pytest
import torch

from egnn_lite.checks import check_equivariance
from egnn_lite.graphs import fully_connected
from egnn_lite.systems import (
    SoftSpheres,
    interaction_graph,
    make_soft_sphere_data,
    soft_sphere_energy,
    soft_sphere_forces,
    velocity_verlet,
)

SYSTEM = SoftSpheres()


def cloud(B=4, N=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(B, N, 3, generator=g, dtype=torch.float64) - 0.5) * 2.0
    s = (torch.rand(B, N, generator=g) < 0.5).long()
    return x, s


def test_forces_are_minus_the_gradient_of_the_energy():
    x, s = cloud()
    x.requires_grad_(True)
    (grad,) = torch.autograd.grad(soft_sphere_energy(x, s).sum(), x)
    assert torch.allclose(soft_sphere_forces(x.detach(), s), -grad, atol=1e-12)


def test_newtons_third_law_total_force_is_zero():
    x, s = cloud(B=16, N=12)
    F = soft_sphere_forces(x, s)
    assert F.abs().max() > 0.1  # the systems do interact
    assert F.sum(dim=1).abs().max() < 1e-12


def test_only_overlapping_pairs_interact_and_b_never_meets_b():
    r = {(0, 0): 1.0, (0, 1): 0.75, (1, 1): 0.0}
    for (a, b), cut in r.items():
        s = torch.tensor([[a, b]])
        for d, should in ((0.5 * max(cut, 0.2), cut > 0), (cut + 1e-3, False)):
            x = torch.tensor([[[0.0, 0, 0], [d, 0, 0]]], dtype=torch.float64)
            F = soft_sphere_forces(x, s)
            A = interaction_graph(x, s)
            assert bool(A[0, 0, 1]) == should and bool(A[0, 1, 0]) == should, (a, b, d)
            assert (F.abs().max() > 0) == should, (a, b, d)
            if should:
                assert F[0, 0, 0] < 0 < F[0, 1, 0]  # pushed apart


def test_interaction_graph_is_symmetric_without_self_loops():
    x, s = cloud(B=8, N=10)
    A = interaction_graph(x, s)
    assert torch.equal(A, A.transpose(1, 2))
    assert not A.diagonal(dim1=1, dim2=2).any()
    assert A.any() and not A.all()


def test_velocity_verlet_conserves_energy():
    x, s = cloud(B=8, N=10, seed=1)
    force = lambda y: soft_sphere_forces(y, s)  # noqa: E731
    v0 = torch.zeros_like(x)
    e0 = soft_sphere_energy(x, s)
    x1, v1, frames = velocity_verlet(x, v0, force, 0.005, 100, record_every=10)
    e1 = soft_sphere_energy(x1, s) + 0.5 * (v1**2).sum(dim=(1, 2))
    assert frames.shape == (11, 8, 10, 3) and torch.equal(frames[0], x) and torch.equal(frames[-1], x1)
    moving = e0 > 0.1
    assert moving.sum() >= 6
    assert ((e1 - e0).abs() / e0)[moving].max() < 1e-3
    assert (e1 - e0)[~moving].abs().max() < 1e-3  # nearly at rest stays nearly at rest
    # and momentum exactly (up to rounding), by Newton's third law
    assert v1.sum(dim=1).abs().max() < 1e-12


def _simulate_one(h, x, edge_index, clip=None):
    s = h[:, 1].long().unsqueeze(0)

    def force(y):
        F = soft_sphere_forces(y, s)
        return F if clip is None else F.clamp(-clip, clip)

    x1, _, _ = velocity_verlet(x.unsqueeze(0), torch.zeros_like(x).unsqueeze(0), force, 0.005, 100)
    return x1[0]


def test_simulator_is_E3_equivariant_and_a_per_component_clip_is_not():
    x, s = cloud(B=1, N=10, seed=2)
    h = torch.nn.functional.one_hot(s[0], 2).double()
    ei = fully_connected(10)
    report = check_equivariance(_simulate_one, h, x[0], ei, outputs=("position",))
    assert report.passed, report
    # negative control: clipping each force component (as the paper's official N-body code does)
    clipped = check_equivariance(lambda *a: _simulate_one(*a, clip=0.2), h, x[0], ei, outputs=("position",))
    assert clipped.worst("rotation") > 1e-4
    assert clipped.worst("translation") < 1e-12 and clipped.worst("permutation") < 1e-12


def test_dataset_is_deterministic_and_seeded():
    a = make_soft_sphere_data(20, 6, seed=5)
    b = make_soft_sphere_data(20, 6, seed=5)
    c = make_soft_sphere_data(20, 6, seed=6)
    assert torch.equal(a.x0, b.x0) and torch.equal(a.x1, b.x1) and torch.equal(a.species, b.species)
    assert not torch.equal(a.x0, c.x0)
    assert a.x0.dtype == torch.float32 and len(a) == 20 and a.n_particles == 6
    assert torch.equal(a.adjacency, interaction_graph(a.x0.double(), a.species))
    assert (a.x1 - a.x0).abs().max() > 1e-3  # the particles moved


def test_batches_complete_and_radius_graphs():
    d = make_soft_sphere_data(5, 7, seed=0)
    full = d.batch(graph="complete")
    assert full.num_edges == 5 * 7 * 6
    assert full.h.shape == (35, 2) and full.x.shape == (35, 3) and full.target.shape == (35, 3)
    i, j = full.edge_index
    assert torch.equal(i // 7, j // 7) and not (i == j).any()  # no edges between systems, no self-loops
    assert int(full.interacts.sum()) == int(d.adjacency.sum())
    near = d.batch(graph="radius", radius=1.0)
    dist = (near.x[near.edge_index[0]] - near.x[near.edge_index[1]]).norm(dim=-1)
    assert (dist < 1.0).all() and near.num_edges < full.num_edges
    # the largest cut-off is 1.0, so the radius graph keeps every true interaction
    assert int(near.interacts.sum()) == int(d.adjacency.sum())
    sub = d.batch([1, 3])
    assert torch.equal(sub.x, d.x0[[1, 3]].reshape(-1, 3))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: SoftSpheres(cutoff=((1.0, 0.5), (0.7, 0.0))), "symmetric"),
        (lambda: SoftSpheres(k=0), "stiffness"),
        (lambda: make_soft_sphere_data(0), "n_systems"),
        (lambda: make_soft_sphere_data(3, 1), "n_particles"),
        (lambda: make_soft_sphere_data(3, fraction_b=2), "fraction_b"),
        (lambda: soft_sphere_forces(torch.zeros(4, 3), torch.zeros(1, 4)), r"\(B, N, n\)"),
        (lambda: soft_sphere_forces(torch.zeros(1, 4, 3), torch.full((1, 4), 2)), "species"),
        (lambda: make_soft_sphere_data(3, 4).batch(graph="radius"), "radius"),
        (lambda: make_soft_sphere_data(3, 4).batch(graph="knn"), "complete"),
        (lambda: velocity_verlet(torch.zeros(1, 2, 3), torch.zeros(1, 2, 3), lambda x: x, 0.0, 3), "dt"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_a_short_fit_beats_standing_still():
    from egnn_lite.models import EGNN
    from egnn_lite.systems import fit_soft_spheres, position_mse

    train, val = make_soft_sphere_data(200, 6, seed=1), make_soft_sphere_data(50, 6, seed=2)
    torch.manual_seed(0)
    model = EGNN(2, 32, 1, 2)
    batch = val.batch()
    still = ((batch.x - batch.target) ** 2).mean().item()
    hist = fit_soft_spheres(model, train, val, epochs=15, lr=3e-3, batch_size=20, progress=False)
    with torch.no_grad():
        assert position_mse(model, batch).item() == pytest.approx(hist.best_val, rel=1e-5)
    assert hist.best_val < 0.7 * still


def test_indexing_keeps_the_system_axis():
    d = make_soft_sphere_data(4, 5, seed=0)
    one = d[2]
    assert len(one) == 1 and one.x0.shape == (1, 5, 3) and torch.equal(one.x0[0], d.x0[2])
    assert one.batch().num_edges == 20
    assert len(d[1:3]) == 2 and len(d[[0, 3]]) == 2
