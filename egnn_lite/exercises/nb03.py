"""Checkers for the exercises of notebooks/03 (spherical harmonics and radial fields).

3.1  the l = 1 harmonics written from the unit vector (equal to ``harmonics.spherical_harmonics``,
     and a vector under the harness once put back into (x, y, z) order)
3.2  the power spectrum p_l = |c_l|^2 of a point cloud: invariant under all of E(3) and permutations
3.3  classical multidimensional scaling: a cloud rebuilt from its distance matrix alone
3.4  which pairs of clouds can distance-only message passing tell apart?  (``PAIRS`` below)

Where the property is an equivariance it is measured with ``egnn_lite.checks``, the harness the
collection teaches, so a verdict names the transform that failed and by how much. The harmonics
are imported inside the checkers, so that a problem there never stops the other notebooks' checks.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor

from ..checks import check_equivariance
from ..graphs import fully_connected, radius_graph
from ..groups import random_orthogonal, reflection
from ..models import EGNN
from . import Incorrect, exercise, tensor_answer

__all__ = ["PAIRS", "pair_clouds", "pair_graphs", "distance_only_readout", "distinguishable_truth"]

F64 = torch.float64


def _cloud(num_points: int = 9, seed: int = 31, dim: int = 3) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(num_points, dim, generator=gen, dtype=F64)


def _rel(a: Tensor, b: Tensor) -> float:
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-300)).item()


def _fmt_fail(c) -> str:
    return f"{c.transform}: relative error {c.max_rel:.1e} > tolerance {c.rtol:.0e}"


# --------------------------------------------------------------------------------------------
# 3.1  Y_1 from the unit vector
# --------------------------------------------------------------------------------------------


_Y1_TOL = {torch.float64: 1e-10, torch.float32: 2e-6}  # relative; float32 answers are held to float32's precision


def _fit(got: Tensor, base: Tensor) -> tuple[float, float]:
    """The best constant k in got ≈ k * base, and the relative misfit that remains."""
    k = ((got * base).sum() / (base * base).sum()).item()
    return k, _rel(got, k * base)


def _diagnose_Y1(got: Tensor, x: Tensor, tol: float) -> str:
    """Why ``got`` is not Y_1(x): the order of the components, the length, the constant."""
    c = math.sqrt(3 / (4 * math.pi))
    u = x / torch.linalg.vector_norm(x, dim=1, keepdim=True)
    fit_tol = max(tol, 1e-9)
    for perm in itertools.permutations(range(3)):
        for base, divided in ((u, True), (x, False)):
            k, misfit = _fit(got, base[:, list(perm)])
            if misfit > fit_tol:
                continue
            order_ok = perm == (1, 2, 0)
            problems = []
            if not order_ok:
                order = "(" + ", ".join("xyz"[p] for p in perm) + ")"
                problems.append(f"the components are in the wrong order: you return {order}, and this collection's order is m = -1, 0, 1 = (y, z, x) (see L1_AXES)")
            if not divided:
                problems.append("x is not divided by its length |x|: Y_1 depends on the direction only")
            elif abs(k - c) > fit_tol * c:
                if abs(k - 1) < fit_tol:
                    factor = "the normalisation is missing: multiply by sqrt(3 / (4 pi)), so that the integral of Y_1m^2 over the sphere is 1"
                elif abs(k + c) < fit_tol * c:
                    factor = "the sign is flipped: this convention has no Condon-Shortley phase, Y_1,1 = +sqrt(3/4pi) x/r"
                else:
                    factor = f"off by a factor {k / c:.4g}: Y_1 = sqrt(3 / (4 pi)) (y, z, x) / |x|"
                problems.append(("right directions and order, but " if order_ok else "") + factor)
            return "; and ".join(problems)
    return ""


@exercise("3.1", "the l = 1 harmonics from the unit vector")
def check_Y1(Y1_from_scratch) -> str:
    from ..harmonics import L1_PERMUTATION, spherical_harmonics, wigner_D

    x = 2.5 * _cloud(9, seed=31)
    raw = Y1_from_scratch(x.clone())
    got = tensor_answer(raw, "Y1_from_scratch(x)", (9, 3))
    single = raw.dtype == torch.float32  # accepted, and held to float32's precision
    tol = _Y1_TOL[torch.float32 if single else F64]
    want = spherical_harmonics(1, x)
    err = _rel(got, want)
    if err > tol:
        reason = _diagnose_Y1(got, x, tol)
        if reason:
            raise Incorrect(reason)
        if err < _Y1_TOL[torch.float32]:
            raise Incorrect(f"right to {err:.1e} only: the input is float64, so compute in float64 (or return float32, which is held to float32's precision, {_Y1_TOL[torch.float32]:.0e})")
        raise Incorrect(f"values differ from spherical_harmonics(1, x) by up to {(got - want).abs().max().item():.2e} (relative {err:.1e})")
    # equivariance through the harness: the check rotates the cloud and requires the output to rotate with it.
    # Y_1 of the direction from the centroid, put back in (x, y, z) order with P^T, is a vector.
    P = L1_PERMUTATION

    def direction_from_centroid(h_, x_, ei_):
        return Y1_from_scratch(x_ - x_.mean(dim=0)).to(F64) @ P

    report = check_equivariance(direction_from_centroid, torch.zeros(9, 1, dtype=F64), x, fully_connected(9), outputs=("vector",), names=("Y1",),
                                rtol=1e-5 if single else None)
    if not report.passed:
        raise Incorrect(f"{_fmt_fail(report.failures()[0])}: when the cloud turns, your Y_1 of the directions from the centroid should turn with it")
    # and D_1(Q) = P Q P^T, directly, for a rotation and a reflection
    worst = 0.0
    for det in (1, -1):
        Q = random_orthogonal(3, det, generator=5 + det)
        a = tensor_answer(Y1_from_scratch(x @ Q.T), "Y1_from_scratch(x)", (9, 3))
        b = got @ wigner_D(1, Q).T
        worst = max(worst, _rel(a, b))
    if worst > tol:
        raise Incorrect(f"Y_1(Qx) differs from D_1(Q) Y_1(x) by a relative {worst:.1e}")
    precision = " (a float32 answer, held to float32's precision)" if single else ""
    return (
        f"equals spherical_harmonics(1, x){precision} (relative difference {err:.1e}); turns with the cloud under the harness "
        f"(worst relative error {report.worst():.1e}); Y_1(Qx) = D_1(Q) Y_1(x) with D_1 = P Q P^T, reflections included ({worst:.1e})."
    )


# --------------------------------------------------------------------------------------------
# 3.2  the power spectrum
# --------------------------------------------------------------------------------------------


def reference_power_spectrum(x: Tensor, l_max: int) -> Tensor:
    """p_l = |c_l|^2, c_l = sum_i Y_l((x_i - centroid) / |x_i - centroid|), for l = 0..l_max."""
    from ..harmonics import all_spherical_harmonics

    c = [Y.sum(dim=0) for Y in all_spherical_harmonics(x - x.mean(dim=0), l_max)]
    return torch.stack([(cl * cl).sum() for cl in c])


@exercise("3.2", "the power spectrum is invariant")
def check_power_spectrum(power_spectrum) -> str:
    x = _cloud(8, seed=32)
    l_max = 4
    got = tensor_answer(power_spectrum(x.clone(), l_max), "power_spectrum(x, l_max)", (l_max + 1,))
    want = reference_power_spectrum(x, l_max)

    def f(h_, x_, ei_):
        return torch.as_tensor(power_spectrum(x_, l_max)).to(F64).reshape(1, -1)

    report = check_equivariance(f, torch.zeros(8, 1, dtype=F64), x, fully_connected(8), outputs=("graph_invariant",), names=("p",))
    if not report.passed:
        c = report.failures()[0]
        why = {
            "translation": "use the directions from the centroid, x_i - mean(x), not the raw positions",
            "rotation": "inside each l the coefficients rotate by D_l; only the length of the block, sum over m of c_lm^2, is invariant",
            "reflection": "a reflection multiplies c_l by (-1)^l D_l; the squared length of the block does not see the sign",
            "permutation": "sum over the points, so that their order does not matter",
        }[c.transform]
        raise Incorrect(f"{_fmt_fail(c)}: not invariant ({why})")
    if _rel(got, want) > 1e-10:
        if _rel(got, want.sqrt()) < 1e-10:
            raise Incorrect("you returned |c_l|; the power spectrum is its square, p_l = sum_m c_lm^2")
        raise Incorrect(f"invariant, but the values differ from p_l = sum_m (sum_i Y_lm(r_i))^2: got {got.tolist()}, expected {want.tolist()}")
    return f"matches the reference (p_0..p_{l_max} = {', '.join(f'{v:.3f}' for v in want.tolist())}) and is invariant under all four transforms (worst relative error {report.worst():.1e})."


# --------------------------------------------------------------------------------------------
# 3.3  classical MDS
# --------------------------------------------------------------------------------------------


def _measured_line() -> Tensor:
    """The distance matrix of 8 points on a line in 3-D (a linear molecule), each squared distance
    1e-9 too short, as measured distances are slightly inconsistent. Its Gram matrix has one large
    eigenvalue, one zero (the all-ones direction) and six at -5e-10: whatever the platform's
    rounding, the third largest is negative, so a square root without a clamp gives NaN."""
    t = torch.tensor([0.0, 1.1, 2.3, 3.2, 4.6, 5.5, 6.9, 8.0], dtype=F64)
    x = t[:, None] * torch.tensor([1.0, 2.0, 2.0], dtype=F64) / 3 + torch.tensor([1.0, -2.0, 0.5], dtype=F64)
    D2 = torch.cdist(x, x) ** 2 - 1e-9 * (1 - torch.eye(8, dtype=F64))
    return D2.sqrt()


def _mds_cases():
    """(D, n, label) for every case the MDS check runs."""
    flat = _cloud(10, seed=33)
    flat[:, 2] = 0.0  # points on a plane, in 3-D: the Gram matrix has a zero eigenvalue among the top 3
    clouds = [(_cloud(12, seed=34, dim=3), 3, "12 points in 3-D"), (_cloud(7, seed=35, dim=2), 2, "7 points in 2-D"),
              (_cloud(15, seed=36, dim=5), 5, "15 points in 5-D"), (5.0 * flat + 20.0, 3, "10 points on a plane in 3-D, far from the origin")]
    cases = [(torch.cdist(x, x), n, label) for x, n, label in clouds]
    cases.append((_measured_line(), 3, "8 points on a line in 3-D whose distances are slightly inconsistent (each squared distance 1e-9 short), "
                                       "so that the zero eigenvalues among the top 3 come out negative, at -5e-10"))
    return cases


@exercise("3.3", "a cloud from its distances (classical MDS)")
def check_mds(classical_mds) -> str:
    errors = []
    for D, n, label in _mds_cases():
        N = D.shape[0]
        y = classical_mds(D.clone(), n)
        if not isinstance(y, Tensor):
            raise Incorrect(f"return a torch tensor of shape (N, n), got {type(y).__name__}")
        if tuple(y.shape) != (N, n):
            raise Incorrect(f"for {label}: expected shape {(N, n)}, got {tuple(y.shape)}")
        if not torch.isfinite(y).all():
            raise Incorrect(
                f"for {label}: the result has NaN, the square root of a negative eigenvalue. An eigenvalue that should be 0 can come out "
                "slightly negative (rounding, or distances that are slightly inconsistent): clamp the eigenvalues at 0 before the square root. "
                "If large eigenvalues are negative, check the sign: G = -1/2 J D^2 J is positive semi-definite"
            )
        y = y.to(F64)
        Dy = torch.cdist(y, y)
        err = _rel(Dy, D)
        if err > 1e-9:
            ratio = (Dy.sum() / D.sum()).item()
            if Dy.max() < 1e-3 * D.max():
                raise Incorrect(
                    f"for {label}: your cloud has collapsed to (almost) a single point, so the eigenvalues you kept are (about) zero. "
                    "Two ways to get there: keeping the smallest eigenvalues (keep the n LARGEST: torch.linalg.eigh sorts them ascending), "
                    "or the wrong sign (G = -1/2 J D^2 J is positive semi-definite; with +1/2 it is negative semi-definite, and its largest eigenvalues are zeros)"
                )
            if abs(ratio - math.sqrt(2)) < 1e-6:
                raise Incorrect(f"for {label}: every distance is sqrt(2) too long; the Gram matrix is -1/2 J D^2 J (the factor -1/2)")
            if abs(ratio - 1 / math.sqrt(2)) < 1e-6:
                raise Incorrect(f"for {label}: every distance is sqrt(2) too short; the Gram matrix is -1/2 J D^2 J, not -1/4")
            raise Incorrect(
                f"for {label}: the rebuilt cloud's distance matrix differs from D by a relative {err:.1e} "
                "(use the squared distances, centre them twice with J = I - 11^T/N, and keep the n LARGEST eigenvalues: torch.linalg.eigh sorts them ascending)"
            )
        errors.append(err)
    return (
        "the rebuilt clouds have the given distance matrices in 2, 3 and 5 dimensions, a flat cloud included (worst relative error "
        f"{max(errors[:-1]):.1e}), and the line with slightly inconsistent distances comes back as close as they allow ({errors[-1]:.1e})."
    )


# --------------------------------------------------------------------------------------------
# 3.4  which pairs can distance-only message passing tell apart?
# --------------------------------------------------------------------------------------------


def _polygon(k: int, side: float = 1.0, phase: float = 0.0) -> Tensor:
    """A regular k-gon with the given side, centred at the origin, in the plane z = 0, its first
    corner at the angle ``phase``."""
    a = phase + torch.arange(k, dtype=F64) * 2 * math.pi / k
    radius = side / (2 * math.sin(math.pi / k))
    return torch.stack([radius * a.cos(), radius * a.sin(), torch.zeros_like(a)], dim=1)


def _square() -> Tensor:
    """The unit square, sides along the x and y axes; its diagonals join corners 0-2 and 1-3."""
    return _polygon(4, phase=math.pi / 4)


def _apart(*clouds: Tensor, gap: float = 3.0) -> Tensor:
    return torch.cat([c + torch.tensor([gap * k, 0.0, 0.0], dtype=F64) for k, c in enumerate(clouds)])


def _rhombus() -> Tensor:
    """Side 1, angles 60 and 120 degrees: its short diagonal has length 1."""
    s = math.sqrt(3) / 2
    return torch.tensor([[-s, 0, 0], [0, 0.5, 0], [s, 0, 0], [0, -0.5, 0]], dtype=F64)


def _folded_square(diagonal: float = 1.3) -> Tensor:
    """A square of side 1 folded along one diagonal until the other diagonal is ``diagonal`` long."""
    d = math.sqrt(2)
    c = diagonal / d  # cos of the fold angle
    s = math.sqrt(1 - c * c)
    return torch.tensor([[-d / 2, 0, 0], [0, c * d / 2, s * d / 2], [d / 2, 0, 0], [0, -c * d / 2, s * d / 2]], dtype=F64)


def _mirror_pair():
    x = _cloud(6, seed=38)
    return x, x @ reflection([1.0, 0.0, 0.0]).T


# name -> (description, cloud A, cloud B, graph: a radius or "complete")
PAIRS = {
    "a": ("a regular hexagon vs two triangles 3 apart (all sides 1), radius graph r = 1.2", lambda: (_polygon(6), _apart(_polygon(3), _polygon(3))), 1.2),
    "b": ("the same hexagon and triangles, complete graph", lambda: (_polygon(6), _apart(_polygon(3), _polygon(3))), "complete"),
    "c": ("six random points and their mirror image, complete graph", _mirror_pair, "complete"),
    "d": ("a square vs a rhombus with 60-degree angles (all sides 1), radius graph r = 1.2", lambda: (_square(), _rhombus()), 1.2),
    "e": ("a flat square vs the same square folded along a diagonal (other diagonal 1.3), radius graph r = 1.2", lambda: (_square(), _folded_square()), 1.2),
    "f": ("the flat and the folded square, complete graph", lambda: (_square(), _folded_square()), "complete"),
}


def pair_clouds(name: str) -> tuple[Tensor, Tensor]:
    """The two point clouds (N, 3) of pair ``name``."""
    return PAIRS[name][1]()


def _graph(x: Tensor, spec) -> Tensor:
    return fully_connected(x.shape[0]) if spec == "complete" else radius_graph(x, spec)


def pair_graphs(name: str):
    """(x_a, edge_index_a, x_b, edge_index_b) for pair ``name``: the clouds and the graphs message passing uses."""
    xa, xb = pair_clouds(name)
    spec = PAIRS[name][2]
    return xa, _graph(xa, spec), xb, _graph(xb, spec)


def distance_only_readout(x: Tensor, edge_index: Tensor, seed: int = 0, n_layers: int = 3) -> Tensor:
    """The sum over nodes of an EGNN's output features, with coordinates not updated (the paper's
    QM9 setting): a network that sees nothing but the distances along the edges. h = 1 on every node."""
    torch.manual_seed(seed)
    model = EGNN(1, 16, 4, n_layers, update_coords=False).to(F64)
    with torch.no_grad():
        return model(torch.ones(x.shape[0], 1, dtype=F64), x, edge_index)[0].sum(dim=0)


def distinguishable_truth(seeds=(0, 1, 2)) -> dict[str, bool]:
    """For each pair: does some randomly initialised distance-only EGNN give the two clouds different readouts?"""
    truth = {}
    for name in PAIRS:
        xa, ea, xb, eb = pair_graphs(name)
        truth[name] = any(_rel(distance_only_readout(xa, ea, s), distance_only_readout(xb, eb, s)) > 1e-9 for s in seeds)
    return truth


_YES = {"true", "yes", "y", "can", "distinguishable", "apart", "1"}
_NO = {"false", "no", "n", "cannot", "can't", "indistinguishable", "same", "0"}


def _as_bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _YES | _NO:
        return value.strip().lower() in _YES
    return None


# one question per pair, shown whatever the answer: it points at the reason without giving the verdict
_PAIR_QUESTIONS = {
    "a": "what does each node see within the cutoff?",
    "b": "compare the multisets of distances each node sees",
    "c": "what do a cloud and its mirror image share?",
    "d": "count each node's neighbours: is the short diagonal inside the cutoff?",
    "e": "are the diagonals inside the cutoff?",
    "f": "compare the multisets of distances each node sees",
}


@exercise("3.4", "which pairs can distance-only message passing tell apart?")
def check_pairs(pair_answers) -> str:
    answers = pair_answers() if callable(pair_answers) else pair_answers
    if not isinstance(answers, dict):
        raise Incorrect(f"return a dict {{'a': True or False, 'b': ...}}, got {type(answers).__name__}")
    truth = distinguishable_truth()
    problems, right = [], 0
    for name in PAIRS:
        if name not in answers:
            problems.append(f"no answer for pair {name!r}")
            continue
        given = _as_bool(answers[name])
        if given is None:
            problems.append(f"pair {name!r}: answer True (can tell apart) or False (cannot), got {answers[name]!r}")
        elif given == truth[name]:
            right += 1
    if problems:
        raise Incorrect("; ".join(problems))
    if right < len(PAIRS):
        questions = "; ".join(f"{name}: {_PAIR_QUESTIONS[name]}" for name in PAIRS)
        raise Incorrect(
            f"{right} of {len(PAIRS)} right (which ones is for you to find). Test each answer against its question, "
            f"then confirm with distance_only_readout: {questions}."
        )
    can = ", ".join(k for k, v in truth.items() if v)
    cannot = ", ".join(k for k, v in truth.items() if not v)
    return f"all six right: distance-only message passing tells apart {can}, and not {cannot}."
