import math

import pytest
import torch

from egnn_lite.groups import (
    EuclideanTransform,
    Permutation,
    random_orthogonal,
    reflection,
    rotation_3d,
    rotation_from_angles,
)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 6, 9])
@pytest.mark.parametrize("det", [1, -1])
def test_random_orthogonal_is_orthogonal_with_requested_determinant(n, det):
    for seed in range(5):
        Q = random_orthogonal(n, det, generator=seed)
        assert torch.allclose(Q @ Q.T, torch.eye(n, dtype=Q.dtype), atol=1e-12)
        assert math.isclose(torch.linalg.det(Q).item(), det, abs_tol=1e-10)


def test_random_orthogonal_is_seeded_and_varies():
    assert torch.equal(random_orthogonal(3, generator=1), random_orthogonal(3, generator=1))
    assert not torch.allclose(random_orthogonal(3, generator=1), random_orthogonal(3, generator=2))


def test_random_orthogonal_rejects_bad_arguments():
    with pytest.raises(ValueError, match="det"):
        random_orthogonal(3, det=2)
    with pytest.raises(ValueError, match="n must"):
        random_orthogonal(0)


def test_rotation_3d_fixes_its_axis_and_turns_the_plane():
    R = rotation_3d([0, 0, 2.0], math.pi / 2)
    assert torch.allclose(R @ torch.tensor([0.0, 0, 1], dtype=R.dtype), torch.tensor([0.0, 0, 1], dtype=R.dtype))
    assert torch.allclose(R @ torch.tensor([1.0, 0, 0], dtype=R.dtype), torch.tensor([0.0, 1, 0], dtype=R.dtype), atol=1e-15)
    assert math.isclose(torch.linalg.det(R).item(), 1.0, abs_tol=1e-12)
    with pytest.raises(ValueError):
        rotation_3d([0, 0, 0], 1.0)


def test_rotation_from_angles_composes_axis_rotations():
    R = rotation_from_angles(0.3, -0.7, 1.1)
    expect = rotation_3d([0, 0, 1], 0.3) @ rotation_3d([0, 1, 0], -0.7) @ rotation_3d([1, 0, 0], 1.1)
    assert torch.allclose(R, expect)
    assert torch.allclose(rotation_from_angles(0, 0, 0), torch.eye(3, dtype=R.dtype))


def test_reflection_is_a_mirror():
    M = reflection([1.0, 1.0, 0.0])
    assert math.isclose(torch.linalg.det(M).item(), -1.0, abs_tol=1e-12)
    assert torch.allclose(M @ M, torch.eye(3, dtype=M.dtype))
    assert torch.allclose(M @ torch.tensor([1.0, -1.0, 5.0], dtype=M.dtype), torch.tensor([1.0, -1.0, 5.0], dtype=M.dtype))


def test_euclidean_transform_acts_on_positions_and_velocities_differently():
    Q, g = random_orthogonal(3, generator=0), torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64)
    T = EuclideanTransform(Q, g)
    x = torch.randn(5, 3, dtype=torch.float64)
    assert torch.allclose(T.act_x(x), (Q @ x.T).T + g)
    assert torch.allclose(T.act_v(x), (Q @ x.T).T)  # rotated, never translated
    # distances are preserved: the heart of the proof sketch
    assert torch.allclose(torch.cdist(T.act_x(x), T.act_x(x)), torch.cdist(x, x))
    # composition and inverse
    U = EuclideanTransform(random_orthogonal(3, -1, generator=1), torch.zeros(3, dtype=torch.float64))
    assert torch.allclose(T.compose(U).act_x(x), T.act_x(U.act_x(x)))
    assert torch.allclose(T.inverse().act_x(T.act_x(x)), x)
    with pytest.raises(ValueError):
        T.act_x(torch.randn(5, 2, dtype=torch.float64))


def test_permutation_relabels_edges_so_they_join_the_same_points():
    x = torch.randn(6, 3, dtype=torch.float64)
    ei = torch.tensor([[0, 1, 2, 5, 3], [1, 2, 0, 4, 5]])
    a = torch.arange(5, dtype=torch.float64).unsqueeze(1)
    P = Permutation.random(6, 5, generator=3)
    xp = P.act_x(x)
    eip, ap = P.act_edges(ei, a)
    # every edge of the permuted graph joins the same two points and carries the same attribute
    old = {(tuple(x[i].tolist()), tuple(x[j].tolist())): float(a[k]) for k, (i, j) in enumerate(ei.T.tolist())}
    new = {(tuple(xp[i].tolist()), tuple(xp[j].tolist())): float(ap[k]) for k, (i, j) in enumerate(eip.T.tolist())}
    assert old == new
    assert not torch.equal(eip, ei)


def test_permutation_rejects_non_permutations():
    with pytest.raises(ValueError, match="not a permutation"):
        Permutation(torch.tensor([0, 0, 1]))
