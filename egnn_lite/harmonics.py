r"""Real spherical harmonics, Wigner-D matrices and radial basis functions (the primer, notebook 03).

EGNN never needs these: it sees the geometry only through squared distances |x_i - x_j|^2, which
are invariant. Models such as Tensor Field Networks, NequIP or SEGNN describe the direction of an
edge with spherical harmonics Y_l, which rotate by a known matrix: Y_l(R x) = D_l(R) Y_l(x). This
module holds those pieces in plain torch, written to be read next to a textbook.

Conventions (one table, used everywhere in egnn_lite)
----------------------------------------------------

=================  =======================================================================
axes               textbook: z is the polar axis, theta = angle from +z, phi = angle from +x
                   towards +y. A point is (x, y, z) = r (sin t cos p, sin t sin p, cos t).
ordering of m      m = -l, ..., 0, ..., l: index ``l + m`` of the last dimension.
normalisation      orthonormal on the unit sphere ("integral" in e3nn's words):
                   integral over S^2 of Y_lm Y_l'm' dOmega = delta_ll' delta_mm'.
phase              no Condon-Shortley phase in the real harmonics: every Y_l,l and Y_l,-l has
                   a positive leading coefficient, e.g. Y_1,1 = +sqrt(3/4pi) x/r. This is the
                   table of real harmonics on Wikipedia, and what e3nn uses (with its own axis
                   order and normalisation, see below).
l = 1              (Y_1,-1, Y_1,0, Y_1,1) = sqrt(3/4pi) (y, z, x)/r: ``L1_AXES``, ``L1_PERMUTATION``.
=================  =======================================================================

The formula, for m >= 0 (``spherical_harmonics`` computes exactly this, see its docstring)::

    Y_l,0   = N_l0          P_l^0(cos t)
    Y_l,m   = N_lm sqrt(2)  P_l^m(cos t) cos(m p)        (m > 0)
    Y_l,-m  = N_lm sqrt(2)  P_l^m(cos t) sin(m p)        (m > 0)
    N_lm    = sqrt( (2l+1)/(4 pi) * (l-m)!/(l+m)! )

with P_l^m the associated Legendre function WITHOUT the Condon-Shortley factor (-1)^m, so that
P_1^1(t) = +sqrt(1 - t^2).

From SciPy's complex harmonics, and back
----------------------------------------

``scipy.special.sph_harm_y(l, m, theta, phi)`` (theta polar, phi azimuthal, in that order; the
old ``sph_harm(m, l, phi, theta)`` swapped both pairs and is gone from current SciPy) is the
complex Y_l^m WITH the Condon-Shortley phase, Y_l^m = (-1)^m N_lm P_l^m(cos t) e^{i m p}. The
factor (-1)^m below removes that phase again::

    Y_l,m   = sqrt(2) (-1)^m Re Y_l^m        (m > 0)
    Y_l,0   = Y_l^0                          (real)
    Y_l,-m  = sqrt(2) (-1)^m Im Y_l^m        (m > 0)

and back: Y_l^m = (-1)^m (Y_l,m + i Y_l,-m) / sqrt(2), Y_l^-m = (Y_l,m - i Y_l,-m) / sqrt(2).
Both directions are unitary 2x2 changes of basis inside each (m, -m) pair, so orthonormality
and the Wigner-D relation carry over (the complex D is the real D conjugated by that change).

To e3nn (checked against e3nn 0.6.0, ``e3nn/o3/_spherical_harmonics.py`` and ``_rotation.py``)
------------------------------------------------------------------------------------------

e3nn's polar axis is its *y* axis: ``e3nn.o3.xyz_to_angles`` returns beta = acos(y) and
alpha = atan2(x, z). Its degree-1 harmonics are sqrt(3) (x, y, z) in its own axes (``component``
normalisation), and its docstring says it matches Wikipedia's real table "when called with the
argument in the order y, z, x". So e3nn's (x, y, z) are the textbook (y, z, x): e3nn's x is the
textbook y, e3nn's y is the textbook z (the polar axis), e3nn's z is the textbook x. In code::

    e3nn.o3.spherical_harmonics(l, x[..., [1, 2, 0]], normalize=True, normalization="integral")
        == spherical_harmonics(l, x)                         # this module, textbook x

i.e. feed e3nn ``x @ L1_PERMUTATION.T``. e3nn's three output normalisations differ from ours by
one factor per l (``integral`` is ours):

    ``"integral"``   integral of Y_lm^2 over S^2 = 1                          (= ours)
    ``"component"``  |Y_l(x)|^2 = 2l + 1 on the sphere                         = sqrt(4 pi) * ours
    ``"norm"``       |Y_l(x)| = 1 on the sphere                               = sqrt(4 pi / (2l+1)) * ours

and its Wigner-D matrices relate to ours through the same permutation P = ``L1_PERMUTATION``:
``D_ours(R) = Irrep(l, (-1)**l).D_from_matrix(P R P^T)``. (e3nn builds D from Euler angles by
matrix exponentials of generators; in float64 it agrees with this module's D only to about 1e-6,
because its generators are made in float32.)

Radial bases
------------

``gaussian_rbf`` and ``bessel_rbf`` expand a distance d in n smooth functions, the radial half of
an equivariant filter R(d) Y_l(x/|x|). EGNN's phi_e reads |x_i - x_j|^2 directly instead; the
Radial Field model and SchNet/DimeNet-style models read an expansion like these.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "L1_AXES",
    "L1_PERMUTATION",
    "spherical_harmonics",
    "all_spherical_harmonics",
    "sphere_quadrature",
    "wigner_D",
    "gaussian_rbf",
    "bessel_rbf",
]

# The l = 1 harmonics are the unit vector itself, listed in the order m = -1, 0, 1 = (y, z, x).
L1_AXES = ("y", "z", "x")
# P with Y_1(x) = sqrt(3/4pi) P x/|x|; then D_1(R) = P R P^T (R written in textbook x, y, z).
L1_PERMUTATION = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], dtype=torch.float64)


# --------------------------------------------------------------------------- input checks
def _check_l(l, what: str = "l") -> int:
    if isinstance(l, bool) or not isinstance(l, (int, np.integer)) or l < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {l!r}")
    return int(l)


def _check_points(x) -> Tensor:
    if not isinstance(x, Tensor):
        x = torch.as_tensor(x, dtype=torch.float64)
    if x.dim() == 0 or x.shape[-1] != 3:
        raise ValueError(f"x must have shape (..., 3) (points in 3-D), got {tuple(x.shape)}")
    if not x.is_floating_point():
        x = x.to(torch.float64)
    return x


# --------------------------------------------------------------------------- the harmonics
def spherical_harmonics(l: int, x: Tensor, *, normalize: bool = True) -> Tensor:
    r"""The real spherical harmonics Y_l at points x (..., 3): shape (..., 2l+1), m = -l..l.

    With ``normalize=True`` (the default) x is divided by its length first, so Y_l depends only
    on the direction; the zero vector gives Y_0 = 1/sqrt(4 pi) and 0 for l >= 1 (as e3nn does).
    With ``normalize=False`` the result is the homogeneous polynomial r^l Y_l(x/r) of degree l
    in (x, y, z) (a "solid harmonic"): the same numbers on the unit sphere.

    How it is computed (any l; a textbook's table for l <= 3 is a good check). Write
    x + i y = r sin(t) e^{i p} and z = r cos(t). Then

    1. azimuthal part: (x + i y)^m = A_m + i B_m, by the recurrence
           A_0 = 1, B_0 = 0,  A_m = x A_{m-1} - y B_{m-1},  B_m = x B_{m-1} + y A_{m-1},
       so A_m = r^m sin^m(t) cos(m p) and B_m = r^m sin^m(t) sin(m p);

    2. polar part: the associated Legendre function divided by sin^m(t), times r^(l-m),
           Pi_l^m(z, r) = r^(l-m) P_l^m(cos t) / sin^m(t),
       a polynomial in z and r^2 built with the standard three-term recurrence in l
       (no Condon-Shortley phase):
           Pi_m^m     = (2m - 1)!!
           Pi_{m+1}^m = (2m + 1) z Pi_m^m
           (l - m) Pi_l^m = (2l - 1) z Pi_{l-1}^m - (l + m - 1) r^2 Pi_{l-2}^m;

    3. Y_l,0 = N_l0 Pi_l^0,  Y_l,m = sqrt(2) N_lm Pi_l^m A_m,  Y_l,-m = sqrt(2) N_lm Pi_l^m B_m,
       with N_lm = sqrt((2l+1)/(4 pi) (l-m)!/(l+m)!) (module docstring), divided by r^l when
       normalising (here: r = 1 after x was normalised).

    Example: l = 1 gives sqrt(3/4pi) (y, z, x)/r (``L1_AXES``).
    """
    l = _check_l(l)
    x = _check_points(x)
    if normalize:
        r = torch.linalg.vector_norm(x, dim=-1, keepdim=True)
        x = x / torch.where(r > 0, r, torch.ones_like(r))
    X, Y, Z = x.unbind(-1)
    r2 = X * X + Y * Y + Z * Z  # 1 on the unit sphere; kept so that normalize=False stays a polynomial

    # 1. (x + iy)^m = A_m + i B_m, for m = 0..l
    A, B = [torch.ones_like(X)], [torch.zeros_like(X)]
    for m in range(1, l + 1):
        A.append(X * A[m - 1] - Y * B[m - 1])
        B.append(X * B[m - 1] + Y * A[m - 1])

    out = [None] * (2 * l + 1)
    for m in range(0, l + 1):
        # 2. Pi_k^m for k = m, m+1, ..., l by the recurrence in k
        double_factorial = math.prod(range(1, 2 * m, 2))  # (2m - 1)!!, = 1 for m = 0
        pi_prev, pi = None, torch.full_like(X, float(double_factorial))  # Pi_m^m
        for k in range(m + 1, l + 1):
            if k == m + 1:
                pi_prev, pi = pi, (2 * m + 1) * Z * pi
            else:
                pi_prev, pi = pi, ((2 * k - 1) * Z * pi - (k + m - 1) * r2 * pi_prev) / (k - m)
        # 3. normalise and attach the azimuthal part
        norm = math.sqrt((2 * l + 1) / (4 * math.pi) * math.factorial(l - m) / math.factorial(l + m))
        if m == 0:
            out[l] = norm * pi
        else:
            out[l + m] = math.sqrt(2) * norm * pi * A[m]
            out[l - m] = math.sqrt(2) * norm * pi * B[m]
    return torch.stack(out, dim=-1)


def all_spherical_harmonics(x: Tensor, l_max: int, *, normalize: bool = True) -> list[Tensor]:
    """[Y_0(x), Y_1(x), ..., Y_lmax(x)], each of shape (..., 2l+1)."""
    l_max = _check_l(l_max, "l_max")
    return [spherical_harmonics(l, x, normalize=normalize) for l in range(l_max + 1)]


# --------------------------------------------------------------------------- integrals on the sphere
@lru_cache(maxsize=None)
def _quadrature(degree: int) -> tuple[Tensor, Tensor]:
    n_theta = degree // 2 + 1  # Gauss-Legendre with n nodes is exact up to degree 2n - 1 >= degree
    n_phi = degree + 1  # n equispaced angles integrate cos(k p), sin(k p) exactly for k < n
    t, w_t = np.polynomial.legendre.leggauss(n_theta)  # t = cos(theta) in [-1, 1], weights sum to 2
    phi = 2 * np.pi * np.arange(n_phi) / n_phi
    t, phi = np.meshgrid(t, phi, indexing="ij")
    s = np.sqrt(1 - t * t)
    points = np.stack([s * np.cos(phi), s * np.sin(phi), t], axis=-1).reshape(-1, 3)
    weights = np.repeat(w_t, n_phi) * (2 * np.pi / n_phi)
    return torch.from_numpy(points), torch.from_numpy(weights)


def sphere_quadrature(degree: int, *, dtype=torch.float64) -> tuple[Tensor, Tensor]:
    """Points (P, 3) on the unit sphere and weights (P,) summing to 4 pi such that
    sum_k w_k f(p_k) = integral of f over S^2 exactly for every polynomial f of degree <= ``degree``.

    A product rule: Gauss-Legendre in t = cos(theta) (degree // 2 + 1 nodes) times degree + 1
    equispaced angles phi. Why it is exact: a monomial x^a y^b z^c is sin^(a+b)(t) cos^a(p)
    sin^b(p) cos^c(t). Its phi-integral vanishes unless a and b are both even, and the
    equispaced rule gives zero too (it sums only trigonometric terms of frequency <= a + b <
    n_phi); when a, b are even, sin^(a+b) = (1 - t^2)^((a+b)/2) is a polynomial in t of degree
    a + b, so the t-integral is one of degree a + b + c <= degree, which Gauss-Legendre gets exactly.

    Products Y_l Y_l' have degree l + l', so ``sphere_quadrature(2 * l)`` integrates Y_l Y_l^T.
    """
    degree = _check_l(degree, "degree")
    points, weights = _quadrature(degree)
    return points.to(dtype).clone(), weights.to(dtype).clone()


def wigner_D(l: int, Q: Tensor) -> Tensor:
    r"""The Wigner-D matrix D_l(Q), (2l+1, 2l+1), with Y_l(Q x) = D_l(Q) Y_l(x) for every x.

    Q is any orthogonal 3 x 3 matrix (or a batch (..., 3, 3), giving (..., 2l+1, 2l+1)), in the
    textbook axes; the result is float64.

    Computed from the harmonics themselves. Y_l(Q x) is again a polynomial of degree l on the
    sphere, and harmonic, so it is a combination of the Y_lm' of the same l: that is the claim
    "Y_l(Qx) = D_l(Q) Y_l(x)", and nothing of another l' can appear. The coefficients follow from
    orthonormality (multiply by Y_l(x)^T and integrate):

        D_l(Q) = integral over S^2 of Y_l(Q x) Y_l(x)^T dOmega,

    and the integrand has degree 2l, so ``sphere_quadrature(2 * l)`` computes it exactly (up to
    rounding, about 1e-15 here). D_l is orthogonal, D_l(Q1 Q2) = D_l(Q1) D_l(Q2), and for l = 1
    it is the rotation itself with the axes reordered: D_1(Q) = P Q P^T, P = ``L1_PERMUTATION``.

    Reflections (det Q = -1) need no special case. Every such Q is -1 times a rotation,
    Q = (-I)(-Q), and Y_l has parity (-1)^l: Y_l(-x) = (-1)^l Y_l(x) (a polynomial of degree l
    in which every term has degree l). Hence

        D_l(Q) = (-1)^l D_l(-Q)      for det Q = -1,

    so a mirror acts on odd l like the rotation -Q with an extra sign, and on even l like -Q
    alone: even-l features cannot tell a shape from its mirror image. e3nn calls this the
    parity p = (-1)^l of the irrep "l" made by spherical harmonics of a vector.
    """
    l = _check_l(l)
    Q = torch.as_tensor(Q)
    if Q.dim() < 2 or Q.shape[-2:] != (3, 3):
        raise ValueError(f"wigner_D: Q must be a 3 x 3 matrix (or a batch of them), got shape {tuple(Q.shape)}")
    Q = Q.to(torch.float64)
    if not torch.isfinite(Q).all():
        raise ValueError("wigner_D: Q has non-finite entries")
    defect = (Q.transpose(-1, -2) @ Q - torch.eye(3, dtype=torch.float64)).abs().max().item()
    if defect > 1e-6:
        raise ValueError(f"wigner_D: Q is not orthogonal (max |Q^T Q - I| = {defect:.2e}); D_l is defined for rotations and reflections only")
    points, weights = sphere_quadrature(2 * l)
    y = spherical_harmonics(l, points)  # (P, 2l+1)
    y_rotated = spherical_harmonics(l, points @ Q.transpose(-1, -2))  # Y_l(Q x_k), (..., P, 2l+1)
    return torch.einsum("...pa,pb,p->...ab", y_rotated, y, weights)


# --------------------------------------------------------------------------- radial bases
def _check_n_cutoff(n, cutoff, what: str) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{what}: n must be a positive integer, got {n!r}")
    if not (isinstance(cutoff, (int, float)) and math.isfinite(cutoff) and cutoff > 0):
        raise ValueError(f"{what}: cutoff must be a positive number, got {cutoff!r}")


def _as_distances(d) -> Tensor:
    d = torch.as_tensor(d)
    return d if d.is_floating_point() else d.to(torch.float64)


def gaussian_rbf(d: Tensor, n: int = 16, cutoff: float = 5.0, width: float | None = None) -> Tensor:
    """n Gaussians of the distance d (any shape): (..., n), exp(-(d - mu_k)^2 / (2 width^2)).

    Centres mu_k equispaced on [0, cutoff] (mu_0 = 0, mu_{n-1} = cutoff); the default width is
    their spacing cutoff / (n - 1) (cutoff itself when n = 1), so neighbouring Gaussians overlap
    and every distance in range lights up one or two of them. (SchNet's expansion, with
    gamma = 1 / (2 width^2).) Not cut off: beyond the cutoff the last Gaussians decay smoothly.
    """
    _check_n_cutoff(n, cutoff, "gaussian_rbf")
    d = _as_distances(d)
    spacing = cutoff / (n - 1) if n > 1 else float(cutoff)
    width = spacing if width is None else width
    if not (isinstance(width, (int, float)) and math.isfinite(width) and width > 0):
        raise ValueError(f"gaussian_rbf: width must be a positive number, got {width!r}")
    mu = torch.linspace(0.0, float(cutoff), n, dtype=d.dtype, device=d.device)
    return torch.exp(-((d.unsqueeze(-1) - mu) ** 2) / (2 * width**2))


def bessel_rbf(d: Tensor, n: int = 8, cutoff: float = 5.0) -> Tensor:
    """n spherical Bessel functions of order 0 of the distance d (any shape, d >= 0): (..., n),

        e_k(d) = sqrt(2/c) sin(k pi d / c) / d,     k = 1..n,  c = cutoff      (DimeNet, Eq. 7)

    for d <= c, and 0 beyond the cutoff. They are orthonormal on [0, c] with weight d^2, and
    vanish at d = c. At d = 0 the value is the limit sqrt(2/c) k pi / c: written with
    sinc(u) = sin(pi u)/(pi u), e_k(d) = sqrt(2/c) (k pi / c) sinc(k d / c), which is finite
    (and smooth, gradient included) at d = 0.
    """
    _check_n_cutoff(n, cutoff, "bessel_rbf")
    d = _as_distances(d)
    if (d < 0).any():
        raise ValueError("bessel_rbf: distances must be non-negative")
    c = float(cutoff)
    k = torch.arange(1, n + 1, dtype=d.dtype, device=d.device)
    e = math.sqrt(2 / c) * (k * math.pi / c) * torch.sinc(k * d.unsqueeze(-1) / c)
    return torch.where(d.unsqueeze(-1) <= c, e, torch.zeros_like(e))
