"""Real spherical harmonics, Wigner-D and radial bases (egnn_lite.harmonics).

Oracles: exact quadrature (orthonormality), SciPy's complex harmonics through the documented
real-form conversion, the group laws of D, and (when installed) e3nn with its axes mapped
explicitly. Every positive check has a negative control next to it that must fail.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from egnn_lite.groups import random_orthogonal, reflection, rotation_3d, rotation_from_angles
from egnn_lite.harmonics import (
    L1_AXES,
    L1_PERMUTATION,
    all_spherical_harmonics,
    bessel_rbf,
    gaussian_rbf,
    sphere_quadrature,
    spherical_harmonics,
    wigner_D,
)

L_TESTED = range(7)  # l = 0..6
L_WIGNER = range(5)  # the target: l <= 4
TOL = 1e-12  # float64
P = L1_PERMUTATION


def random_points(n=200, seed=0, scale=3.0):
    """Points at random directions and lengths (so normalize=True has work to do)."""
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, 3, generator=g, dtype=torch.float64)


# a mix of rotations and reflections, Haar-random, plus structured ones
ROTATIONS = [random_orthogonal(3, 1, generator=s) for s in range(4)] + [rotation_from_angles(0.3, -1.1, 2.5)]
REFLECTIONS = [random_orthogonal(3, -1, generator=10 + s) for s in range(4)] + [reflection([1.0, 2.0, -0.5]), -torch.eye(3, dtype=torch.float64)]
ORTHOGONAL = ROTATIONS + REFLECTIONS


def max_equivariance_error(l, Q, x):
    """max |Y_l(Qx) - D_l(Q) Y_l(x)| over the points x (row-vector form: Y(x) @ D^T)."""
    return (spherical_harmonics(l, x @ Q.T) - spherical_harmonics(l, x) @ wigner_D(l, Q).T).abs().max().item()


# ------------------------------------------------------------------ the harmonics themselves
@pytest.mark.parametrize("l", L_TESTED)
def test_orthonormal_on_the_sphere(l):
    """Gram matrix over all l' <= l at once: identity, so different l are orthogonal too."""
    points, weights = sphere_quadrature(2 * l)
    Y = torch.cat(all_spherical_harmonics(points, l), dim=-1)  # (P, (l+1)^2)
    gram = torch.einsum("pa,pb,p->ab", Y, Y, weights)
    assert (gram - torch.eye(gram.shape[0], dtype=torch.float64)).abs().max().item() < TOL


def test_orthonormality_is_not_trivial():
    """Negative control: a quadrature of too low a degree does not give the identity, and
    harmonics with the sqrt(2) of the real form left out are not normalised."""
    l = 4
    points, weights = sphere_quadrature(l)  # exact only up to degree 4, the products have degree 8
    Y = spherical_harmonics(l, points)
    gram = torch.einsum("pa,pb,p->ab", Y, Y, weights)
    assert (gram - torch.eye(2 * l + 1, dtype=torch.float64)).abs().max().item() > 0.1
    points, weights = sphere_quadrature(2 * l)
    Y = spherical_harmonics(l, points)
    Y[:, :l] /= math.sqrt(2)  # the m < 0 part without its sqrt(2)
    gram = torch.einsum("pa,pb,p->ab", Y, Y, weights)
    assert abs(gram[0, 0].item() - 0.5) < TOL


def _scipy_real(l, x):
    """Real Y_l from scipy.special.sph_harm_y(l, m, theta, phi) by the module docstring's formula:
    Y_l,m = sqrt(2) (-1)^m Re Y_l^m, Y_l,0 = Y_l^0, Y_l,-m = sqrt(2) (-1)^m Im Y_l^m (m > 0)."""
    from scipy.special import sph_harm_y

    x = x.numpy()
    r = np.linalg.norm(x, axis=-1)
    theta = np.arccos(np.clip(x[:, 2] / r, -1, 1))  # polar angle from +z
    phi = np.mod(np.arctan2(x[:, 1], x[:, 0]), 2 * np.pi)  # azimuth from +x towards +y, in [0, 2 pi)
    out = np.empty((x.shape[0], 2 * l + 1))
    out[:, l] = sph_harm_y(l, 0, theta, phi).real
    for m in range(1, l + 1):
        c = sph_harm_y(l, m, theta, phi)  # complex, with the Condon-Shortley phase
        out[:, l + m] = math.sqrt(2) * (-1) ** m * c.real
        out[:, l - m] = math.sqrt(2) * (-1) ** m * c.imag
    return out


@pytest.mark.parametrize("l", L_TESTED)
def test_agrees_with_scipy(l):
    pytest.importorskip("scipy.special", reason="needs SciPy")
    x = random_points(300, seed=l)
    ours = spherical_harmonics(l, x).numpy()
    assert np.abs(ours - _scipy_real(l, x)).max() < TOL


def test_scipy_conversion_inverts():
    """And back: Y_l^m = (-1)^m (Y_l,m + i Y_l,-m)/sqrt(2), Y_l^-m = (Y_l,m - i Y_l,-m)/sqrt(2)."""
    from scipy.special import sph_harm_y

    l = 3
    x = random_points(50, seed=7)
    Y = spherical_harmonics(l, x).numpy()
    r = np.linalg.norm(x.numpy(), axis=-1)
    theta, phi = np.arccos(x[:, 2].numpy() / r), np.mod(np.arctan2(x[:, 1].numpy(), x[:, 0].numpy()), 2 * np.pi)
    for m in range(1, l + 1):
        plus = (-1) ** m * (Y[:, l + m] + 1j * Y[:, l - m]) / math.sqrt(2)
        minus = (Y[:, l + m] - 1j * Y[:, l - m]) / math.sqrt(2)
        assert np.abs(plus - sph_harm_y(l, m, theta, phi)).max() < TOL
        assert np.abs(minus - sph_harm_y(l, -m, theta, phi)).max() < TOL


def test_scipy_negative_control():
    """Leaving out the (-1)^m (i.e. keeping the Condon-Shortley phase) flips every odd m, and the
    old sph_harm's swapped angles give different numbers: the comparison can fail."""
    from scipy.special import sph_harm_y

    x = random_points(50, seed=3)
    ours = spherical_harmonics(1, x).numpy()
    r = np.linalg.norm(x.numpy(), axis=-1)
    theta, phi = np.arccos(x[:, 2].numpy() / r), np.mod(np.arctan2(x[:, 1].numpy(), x[:, 0].numpy()), 2 * np.pi)
    with_cs = math.sqrt(2) * sph_harm_y(1, 1, theta, phi).real
    assert np.abs(with_cs + ours[:, 2]).max() < TOL and np.abs(with_cs - ours[:, 2]).max() > 0.1
    swapped_angles = -math.sqrt(2) * sph_harm_y(1, 1, np.mod(phi, np.pi), theta).real  # (phi, theta) for (theta, phi)
    assert np.abs(swapped_angles - ours[:, 2]).max() > 0.1


def test_low_l_closed_forms():
    """The textbook table: Y_0 = 1/sqrt(4 pi), Y_1 = sqrt(3/4pi)(y, z, x)/r, and l = 2."""
    x = random_points(40, seed=1)
    u = x / x.norm(dim=-1, keepdim=True)
    X, Y, Z = u.unbind(-1)
    assert (spherical_harmonics(0, x) - 1 / math.sqrt(4 * math.pi)).abs().max() < TOL
    assert L1_AXES == ("y", "z", "x")
    c1 = math.sqrt(3 / (4 * math.pi))
    assert (spherical_harmonics(1, x) - c1 * torch.stack([Y, Z, X], -1)).abs().max() < TOL
    assert (spherical_harmonics(1, x) - c1 * u @ P.T).abs().max() < TOL  # Y_1 = sqrt(3/4pi) P x/|x|
    c2 = 0.5 * math.sqrt(15 / math.pi)
    want = torch.stack([c2 * X * Y, c2 * Y * Z, 0.25 * math.sqrt(5 / math.pi) * (3 * Z**2 - 1), c2 * X * Z, 0.5 * c2 * (X**2 - Y**2)], -1)
    assert (spherical_harmonics(2, x) - want).abs().max() < TOL


def test_normalize_false_is_a_homogeneous_polynomial():
    x = random_points(40, seed=2)
    r = x.norm(dim=-1, keepdim=True)
    for l in range(5):
        assert (spherical_harmonics(l, x, normalize=False) - r**l * spherical_harmonics(l, x)).abs().max() < 1e-10
        assert (spherical_harmonics(l, 2.0 * x, normalize=False) - 2.0**l * spherical_harmonics(l, x, normalize=False)).abs().max() < 1e-9


def test_shapes_parity_zero_vector_dtype():
    x = random_points(24, seed=4).reshape(2, 3, 4, 3)
    for l in range(4):
        Y = spherical_harmonics(l, x)
        assert Y.shape == (2, 3, 4, 2 * l + 1) and Y.dtype == torch.float64
        assert (spherical_harmonics(l, -x) - (-1) ** l * Y).abs().max() < TOL  # parity
    assert [t.shape[-1] for t in all_spherical_harmonics(x, 3)] == [1, 3, 5, 7]
    zero = torch.zeros(1, 3, dtype=torch.float64)
    assert spherical_harmonics(0, zero).item() == pytest.approx(1 / math.sqrt(4 * math.pi))
    assert (spherical_harmonics(2, zero) == 0).all()
    assert spherical_harmonics(2, x.float()).dtype == torch.float32
    assert spherical_harmonics(1, torch.tensor([[0, 0, 2]])).dtype == torch.float64  # integers are promoted


def test_quadrature():
    for degree in (0, 1, 4, 9, 12):
        points, weights = sphere_quadrature(degree)
        assert points.shape == (weights.numel(), 3) and points.dtype == torch.float64
        assert abs(weights.sum().item() - 4 * math.pi) < TOL
        assert (points.norm(dim=-1) - 1).abs().max() < TOL
    # exact for a monomial of the stated degree: integral of z^4 over S^2 = 4 pi / 5, of x^2 y^2 = 4 pi / 15
    points, weights = sphere_quadrature(4)
    X, Y, Z = points.unbind(-1)
    assert abs((weights * Z**4).sum().item() - 4 * math.pi / 5) < TOL
    assert abs((weights * X**2 * Y**2).sum().item() - 4 * math.pi / 15) < TOL
    # and not for degree 6 with a degree-4 rule (the negative control)
    assert abs((weights * Z**6).sum().item() - 4 * math.pi / 7) > 1e-3
    assert sphere_quadrature(2, dtype=torch.float32)[0].dtype == torch.float32


# ------------------------------------------------------------------ Wigner-D
@pytest.mark.parametrize("l", L_WIGNER)
def test_equivariance_rotations_and_reflections(l):
    """Y_l(Qx) = D_l(Q) Y_l(x), max error <= 1e-12 in float64, for rotations and reflections."""
    x = random_points(500, seed=100 + l)
    errors = [max_equivariance_error(l, Q, x) for Q in ORTHOGONAL]
    assert max(errors) <= 1e-12, errors


@pytest.mark.parametrize("l", [5, 6])
def test_equivariance_higher_l(l):
    x = random_points(200, seed=l)
    assert max(max_equivariance_error(l, Q, x) for Q in ORTHOGONAL[::3]) <= 1e-12


@pytest.mark.parametrize("l", L_WIGNER)
def test_equivariance_negative_controls(l):
    """Three ways to get it wrong, each far above rounding (for l >= 1):
    D of another rotation; D^T instead of D; no D at all."""
    if l == 0:
        pytest.skip("Y_0 is a constant: invariant, nothing can go wrong")
    x = random_points(300, seed=200 + l)
    Q1, Q2 = ROTATIONS[0], ROTATIONS[1]
    Y, YQ = spherical_harmonics(l, x), spherical_harmonics(l, x @ Q1.T)
    wrong_rotation = (YQ - Y @ wigner_D(l, Q2).T).abs().max().item()
    transposed = (YQ - Y @ wigner_D(l, Q1)).abs().max().item()
    no_D = (YQ - Y).abs().max().item()
    assert min(wrong_rotation, transposed, no_D) > 0.05, (wrong_rotation, transposed, no_D)
    # a reflection treated as the rotation -Q without the parity sign fails for odd l
    F = REFLECTIONS[0]
    without_parity = (spherical_harmonics(l, x @ F.T) - Y @ wigner_D(l, -F).T).abs().max().item()
    assert (without_parity > 0.05) == (l % 2 == 1)


@pytest.mark.parametrize("l", L_WIGNER)
def test_D_is_an_orthogonal_representation(l):
    eye = torch.eye(2 * l + 1, dtype=torch.float64)
    for Q in ORTHOGONAL:
        D = wigner_D(l, Q)
        assert D.shape == (2 * l + 1, 2 * l + 1) and D.dtype == torch.float64
        assert (D @ D.T - eye).abs().max() < TOL
        assert (wigner_D(l, Q.T) - D.T).abs().max() < TOL  # D(Q^-1) = D(Q)^-1 = D(Q)^T
    for Q1, Q2 in [(ROTATIONS[0], ROTATIONS[1]), (ROTATIONS[2], REFLECTIONS[0]), (REFLECTIONS[1], REFLECTIONS[2])]:
        assert (wigner_D(l, Q1 @ Q2) - wigner_D(l, Q1) @ wigner_D(l, Q2)).abs().max() < TOL
    assert (wigner_D(l, torch.eye(3, dtype=torch.float64)) - eye).abs().max() < TOL


@pytest.mark.parametrize("l", L_WIGNER)
def test_parity(l):
    """D_l(-I) = (-1)^l I, and D_l(Q) = (-1)^l D_l(-Q) for every reflection Q."""
    eye = torch.eye(2 * l + 1, dtype=torch.float64)
    assert (wigner_D(l, -torch.eye(3, dtype=torch.float64)) - (-1) ** l * eye).abs().max() < TOL
    for F in REFLECTIONS:
        assert (wigner_D(l, F) - (-1) ** l * wigner_D(l, -F)).abs().max() < TOL


def test_D1_is_the_rotation_in_yzx_order():
    for Q in ORTHOGONAL:
        assert (wigner_D(1, Q) - P @ Q @ P.T).abs().max() < 1e-14
    Q = ROTATIONS[0]
    assert (wigner_D(1, Q) - Q).abs().max() > 0.1  # negative control: the basis order matters


def test_D_about_z_is_a_rotation_in_each_m_pair():
    """About the polar axis, D_l is a 2-D rotation by m a in each (m, -m) pair: the m-labels mean
    what the docstring says. Rotating x by a about z shifts phi to phi + a, and
    Y_l,m ~ cos(m phi), Y_l,-m ~ sin(m phi), so by the addition formulas
        Y_l,m(Rx)  = cos(m a) Y_l,m(x) - sin(m a) Y_l,-m(x),
        Y_l,-m(Rx) = sin(m a) Y_l,m(x) + cos(m a) Y_l,-m(x)."""
    a, l = 0.7, 3
    D = wigner_D(l, rotation_3d([0, 0, 1], a))
    for m in range(1, l + 1):
        block = D[[l + m, l - m]][:, [l + m, l - m]]
        want = torch.tensor([[math.cos(m * a), -math.sin(m * a)], [math.sin(m * a), math.cos(m * a)]], dtype=torch.float64)
        assert (block - want).abs().max() < TOL, m
    assert abs(D[l, l].item() - 1) < TOL


def test_batched_Q():
    Qs = torch.stack(ORTHOGONAL[:4])
    D = wigner_D(2, Qs)
    assert D.shape == (4, 5, 5)
    for k in range(4):
        assert (D[k] - wigner_D(2, Qs[k])).abs().max() < TOL


# ------------------------------------------------------------------ radial bases
def test_gaussian_rbf():
    d = torch.linspace(0, 6, 61, dtype=torch.float64).reshape(61, 1)
    e = gaussian_rbf(d, n=11, cutoff=5.0)
    assert e.shape == (61, 1, 11) and e.dtype == torch.float64
    centres = torch.linspace(0, 5, 11, dtype=torch.float64)
    at_centres = gaussian_rbf(centres, n=11, cutoff=5.0)
    assert torch.allclose(torch.diagonal(at_centres), torch.ones(11, dtype=torch.float64))  # peak 1 at its centre
    assert (at_centres.argmax(dim=-1) == torch.arange(11)).all()
    # default width = spacing 0.5: one spacing away the value is exp(-1/2)
    assert gaussian_rbf(torch.tensor(0.5, dtype=torch.float64), n=11, cutoff=5.0)[0].item() == pytest.approx(math.exp(-0.5), abs=1e-14)
    narrow = gaussian_rbf(torch.tensor(0.5, dtype=torch.float64), n=11, cutoff=5.0, width=0.1)
    assert narrow[0].item() == pytest.approx(math.exp(-12.5), rel=1e-12)
    assert gaussian_rbf(torch.tensor([1.0]), n=1).shape == (1, 1)


def test_bessel_rbf():
    c, n = 5.0, 8
    d = torch.tensor([0.0, 1e-12, 0.7, 2.5, 5.0, 5.5, 100.0], dtype=torch.float64)
    e = bessel_rbf(d, n=n, cutoff=c)
    assert e.shape == (7, n) and torch.isfinite(e).all()
    k = torch.arange(1, n + 1, dtype=torch.float64)
    limit = math.sqrt(2 / c) * k * math.pi / c
    assert (e[0] - limit).abs().max() < 1e-14 and (e[1] - limit).abs().max() < 1e-10
    direct = math.sqrt(2 / c) * torch.sin(k * math.pi * 0.7 / c) / 0.7
    assert (e[2] - direct).abs().max() < 1e-14
    assert e[4].abs().max() < 1e-14  # vanishes at the cutoff
    assert (e[5:] == 0).all()  # and is zero beyond it
    # orthonormal on [0, c] with weight d^2 (trapezoid on a fine grid)
    grid = torch.linspace(0, c, 20001, dtype=torch.float64)
    b = bessel_rbf(grid, n=4, cutoff=c)
    gram = torch.trapezoid(b.unsqueeze(-1) * b.unsqueeze(-2) * (grid**2)[:, None, None], grid, dim=0)
    assert (gram - torch.eye(4, dtype=torch.float64)).abs().max() < 1e-6
    # the gradient at d = 0 is finite
    d0 = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    bessel_rbf(d0).sum().backward()
    assert torch.isfinite(d0.grad).all()


# ------------------------------------------------------------------ bad input
def test_bad_input_is_named():
    x = random_points(5)
    with pytest.raises(ValueError, match="non-negative integer"):
        spherical_harmonics(-1, x)
    with pytest.raises(ValueError, match="non-negative integer"):
        spherical_harmonics(1.5, x)
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        spherical_harmonics(1, torch.zeros(4, 2))
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        spherical_harmonics(1, torch.tensor(1.0))
    with pytest.raises(ValueError, match="l_max"):
        all_spherical_harmonics(x, -2)
    with pytest.raises(ValueError, match="degree"):
        sphere_quadrature(-1)
    with pytest.raises(ValueError, match="not orthogonal"):
        wigner_D(1, 2 * torch.eye(3))
    with pytest.raises(ValueError, match="3 x 3"):
        wigner_D(1, torch.eye(2))
    with pytest.raises(ValueError, match="non-negative integer"):
        wigner_D(-1, torch.eye(3))
    with pytest.raises(ValueError, match="positive integer"):
        gaussian_rbf(torch.ones(3), n=0)
    with pytest.raises(ValueError, match="cutoff"):
        gaussian_rbf(torch.ones(3), cutoff=-1.0)
    with pytest.raises(ValueError, match="width"):
        gaussian_rbf(torch.ones(3), width=0.0)
    with pytest.raises(ValueError, match="positive integer"):
        bessel_rbf(torch.ones(3), n=0)
    with pytest.raises(ValueError, match="non-negative"):
        bessel_rbf(torch.tensor([-0.1]))


# ------------------------------------------------------------------ e3nn, when it is installed
def test_agrees_with_e3nn():
    """e3nn's polar axis is its y axis, and its (x, y, z) are the textbook (y, z, x):
    e3nn.spherical_harmonics(l, P x, normalization="integral") = our Y_l(x), with P = L1_PERMUTATION.
    Its D (float32-precise generators, about 1e-6) is ours after the same change of axes:
    D_ours(Q) = Irrep(l, (-1)^l).D_from_matrix(P Q P^T)."""
    o3 = pytest.importorskip("e3nn.o3")
    x = random_points(200, seed=9)
    x_e3nn = x[..., [1, 2, 0]]  # e3nn's x, y, z = textbook y, z, x
    assert torch.equal(x_e3nn, x @ P.T)
    for l in range(7):
        theirs = o3.spherical_harmonics(l, x_e3nn, normalize=True, normalization="integral")
        assert (theirs - spherical_harmonics(l, x)).abs().max() < TOL, l
        component = o3.spherical_harmonics(l, x_e3nn, normalize=True, normalization="component")
        assert (component - math.sqrt(4 * math.pi) * spherical_harmonics(l, x)).abs().max() < 1e-11
        norm = o3.spherical_harmonics(l, x_e3nn, normalize=True, normalization="norm")
        assert (norm - math.sqrt(4 * math.pi / (2 * l + 1)) * spherical_harmonics(l, x)).abs().max() < 1e-11
    # negative control: without the axis map the harmonics differ (l = 1: a permutation of axes)
    assert (o3.spherical_harmonics(1, x, True, normalization="integral") - spherical_harmonics(1, x)).abs().max() > 0.1
    for Q in ORTHOGONAL[:3] + REFLECTIONS[:2]:
        for l in range(5):
            theirs = o3.Irrep(l, (-1) ** l).D_from_matrix(P @ Q @ P.T)
            assert (theirs.double() - wigner_D(l, Q)).abs().max() < 1e-5
