"""Checkers for the exercises of notebooks/02 (numerical equivariance checks).

2.1  a feature that sees handedness: rotation- and translation-invariant, sign flips in a mirror
2.2  a smooth force limiter that acts on the norm, so that it stays rotation-equivariant
2.3  a tolerance for float32 checks: above rounding, below a real (small) bug
2.4  which transforms do the mystery functions break?  (``MYSTERIES`` below)

Every property that is an equivariance is measured with ``egnn_lite.checks``, the same harness
the notebook teaches, so a verdict names the transform that failed and by how much.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import torch
from torch import Tensor

from ..checks import TRANSFORMS, check_equivariance
from ..graphs import fully_connected
from ..groups import reflection
from ..models import EGNN
from . import Incorrect, exercise

__all__ = ["MYSTERIES", "helix", "coulomb_forces"]


# --------------------------------------------------------------------------------------------
# shared inputs
# --------------------------------------------------------------------------------------------


def helix(num_points: int = 16, turns: float = 2.0, pitch: float = 0.4, *, noise: float = 0.05, seed: int = 0, dtype=torch.float64) -> Tensor:
    """A right-handed helix (cos t, sin t, pitch t), centred and slightly perturbed so that it is generic."""
    from ..widgets import helix as clean_helix  # the demo's helix: z rises by 2 pi pitch per turn

    x = clean_helix(num_points, turns=turns, radius=1.0, pitch=2 * math.pi * pitch)
    gen = torch.Generator().manual_seed(seed)
    return (x + noise * torch.randn(x.shape, generator=gen, dtype=torch.float64)).to(dtype)


def coulomb_forces(x: Tensor, q: Tensor) -> Tensor:
    """F_i = sum_{j != i} q_i q_j (x_i - x_j) / |x_i - x_j|^3 (like charges repel), x (N, n), q (N,)."""
    diff = x[:, None, :] - x[None, :, :]
    dist = torch.linalg.vector_norm(diff, dim=-1)
    dist = dist + torch.diag(torch.full((x.shape[0],), math.inf, dtype=x.dtype))  # no self-force
    w = q[:, None] * q[None, :] / dist**3
    return (w[..., None] * diff).sum(dim=1)


def _chain_edges(n: int) -> Tensor:
    i = torch.arange(n - 1)
    return torch.cat([torch.stack([i, i + 1]), torch.stack([i + 1, i])], dim=1)


def _fmt_fail(c) -> str:
    return f"{c.transform}: relative error {c.max_rel:.1e} > tolerance {c.rtol:.0e}"


# --------------------------------------------------------------------------------------------
# 2.1  handedness
# --------------------------------------------------------------------------------------------


@exercise("2.1", "a feature that sees handedness")
def check_handedness(handedness) -> str:
    x = helix()
    n = x.shape[0]
    h = torch.zeros(n, 1, dtype=x.dtype)
    ei = _chain_edges(n)

    def value(points: Tensor) -> Tensor:
        out = torch.as_tensor(handedness(points), dtype=torch.float64)
        if out.numel() != 1:
            raise Incorrect(f"return one number per chain; your function returned shape {tuple(out.shape)}")
        return out.reshape(1, 1)

    def f(h_, x_, ei_):
        return value(x_)

    report = check_equivariance(f, h, x, ei, outputs=("graph_invariant",), names=("handedness",), transforms=("rotation", "translation", "reflection"))
    for c in report.checks:
        if c.transform in ("rotation", "translation") and not c.passed:
            raise Incorrect(f"{_fmt_fail(c)}: the feature changes when the helix is {'rotated' if c.transform == 'rotation' else 'translated'}, so it is not {c.transform}-invariant")
    right = value(x).item()
    left = value(x @ reflection([1.0, 0.0, 0.0]).T).item()
    size = float(torch.linalg.vector_norm(x[1:] - x[:-1], dim=1).max()) ** 3 * n
    if not math.isfinite(right) or abs(right) <= 1e-9 * size:
        raise Incorrect(f"the feature is {right:.3g} on a helix: it is zero (or not finite), so it cannot tell a right-handed helix from a left-handed one")
    refl = next(c for c in report.checks if c.transform == "reflection")
    if refl.passed:
        raise Incorrect(f"reflection: the feature did not change in a mirror image (relative change {refl.max_rel:.1e}); a feature that sees handedness must")
    if abs(left + right) > 1e-9 * abs(right):
        raise Incorrect(f"reflection changed the feature but did not flip its sign: {right:+.4g} for the helix, {left:+.4g} for its mirror image")
    worst = max(report.worst("rotation"), report.worst("translation"))
    return f"invariant under rotations and translations (relative error {worst:.1e}); the sign flips in a mirror: helix {right:+.4f}, mirror image {left:+.4f}."


# --------------------------------------------------------------------------------------------
# 2.2  a smooth force limiter
# --------------------------------------------------------------------------------------------


def _close_pair_system(dtype=torch.float64):
    """Six charges, two of them 0.07 apart (force norm ~ 200), the others about 1 apart."""
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    x[1] = x[0] + torch.tensor([0.04, -0.03, 0.05], dtype=torch.float64)  # |x_0 - x_1| ~ 0.07
    q = torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0, -1.0], dtype=torch.float64)
    return x.to(dtype), q.to(dtype)


@exercise("2.2", "a smooth force limiter")
def check_soft_limit(soft_limit) -> str:
    x, q = _close_pair_system()
    F = coulomb_forces(x, q)
    norms = torch.linalg.vector_norm(F, dim=1)
    for max_norm in (100.0, 50.0):
        out = soft_limit(F.clone(), max_norm)
        if not isinstance(out, Tensor) or out.shape != F.shape:
            raise Incorrect(f"return a tensor of the forces' shape {tuple(F.shape)}, got {getattr(out, 'shape', type(out).__name__)}")

        def f(h_, x_, ei_, max_norm=max_norm):
            return soft_limit(coulomb_forces(x_, h_[:, 0]), max_norm)

        report = check_equivariance(f, q[:, None], x, fully_connected(x.shape[0]), outputs=("vector",), names=("F",))
        if not report.passed:
            c = report.failures()[0]  # in the harness's order: rotation first
            raise Incorrect(f"{_fmt_fail(c)} for the limited force (max_norm={max_norm:g}): it does not turn with the particles")
        out_norms = torch.linalg.vector_norm(out, dim=1)
        if not torch.isfinite(out).all() or (out_norms > max_norm * (1 + 1e-12)).any():
            raise Incorrect(f"a limited force has norm {out_norms.max():.4g} > max_norm={max_norm:g}")
        cos = (out * F).sum(1) / (out_norms * norms)
        if (cos < 1 - 1e-12).any():
            raise Incorrect(f"a limiter may shorten a force but not turn it; one force turned (cosine {cos.min():.6f} with the original)")
        small = norms <= 0.1 * max_norm
        ratio = out_norms[small] / norms[small]
        if (ratio < 0.9).any():
            raise Incorrect(f"small forces (norm <= 0.1 max_norm) must stay within 10%; one shrank to {ratio.min():.3f} of its norm")
    # smoothness: the limited norm as a function of the force's norm, around max_norm, has no kink
    u = F[norms.argmax()] / norms.max()
    r = torch.linspace(0.5, 1.5, 1001, dtype=F.dtype) * max_norm
    g = torch.linalg.vector_norm(soft_limit(r[:, None] * u, max_norm), dim=1)
    slope = torch.diff(g) / torch.diff(r)
    jump = torch.diff(slope).abs()
    if jump.max() > 0.05:
        k = int(jump.argmax())
        raise Incorrect(
            f"the limiter has a kink near |F| = {r[k + 1]:.4g}: its slope d|F_out|/d|F| jumps from {slope[k]:.3f} to {slope[k + 1]:.3f} (that is a hard clip; make it smooth)"
        )
    return (
        f"equivariant under all four transforms (worst relative error {report.worst():.1e}), norms below max_norm, "
        f"directions kept, smooth: a force of norm {max_norm:g} (= max_norm) comes out with norm {float(g[500]):.4g}."
    )


# --------------------------------------------------------------------------------------------
# 2.3  a tolerance for float32
# --------------------------------------------------------------------------------------------

BUG_SIZE = 1e-4  # the stray coordinate bias of the broken model, relative to the size of x


def _egnn_cloud(seed: int, n_layers: int, scale: float, dtype=torch.float32, num_nodes: int = 10):
    gen = torch.Generator().manual_seed(1000 + seed)
    h = torch.randn(num_nodes, 4, generator=gen, dtype=torch.float64).to(dtype)
    x = (scale * torch.randn(num_nodes, 3, generator=gen, dtype=torch.float64)).to(dtype)
    torch.manual_seed(seed)
    return EGNN(4, 32, 4, n_layers).to(dtype), h, x, fully_connected(num_nodes)


def _worst_float32_error(cases) -> float:
    """The largest relative error of correct float32 EGNNs, over (seed, n_layers, scale) cases."""
    worst = 0.0
    for seed, n_layers, scale in cases:
        model, h, x, ei = _egnn_cloud(seed, n_layers, scale)
        worst = max(worst, check_equivariance(model, h, x, ei, draws=2, seed=seed).worst())
    return worst


@contextmanager
def _one_thread():
    """Run tiny graphs on one thread: faster than several, and immune to the slowdown of busy threads."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@exercise("2.3", "a tolerance for float32")
def check_float32_tolerance(float32_tolerance) -> str:
    with _one_thread():
        return _check_float32_tolerance(float32_tolerance)


def _check_float32_tolerance(float32_tolerance) -> str:
    given = _worst_float32_error([(0, 2, 1.0), (1, 4, 1.0)])
    tol = float32_tolerance(given)
    try:
        tol = float(tol)
    except (TypeError, ValueError):
        raise Incorrect(f"return a number, got {type(tol).__name__}") from None
    if not (math.isfinite(tol) and tol > 0):
        raise Incorrect(f"a tolerance is a positive number, got {tol!r}")
    held_out = [(2, 8, 0.1), (3, 8, 10.0), (4, 16, 1.0), (5, 16, 100.0), (6, 4, 1e3)]
    for seed, n_layers, scale in held_out:
        model, h, x, ei = _egnn_cloud(seed, n_layers, scale)
        report = check_equivariance(model, h, x, ei, draws=2, seed=seed, rtol=tol)
        if not report.passed:
            c = max(report.failures(), key=lambda c: c.max_rel)
            raise Incorrect(
                f"too tight: a correct float32 EGNN ({n_layers} layers, coordinates at scale {scale:g}) has relative error "
                f"{c.max_rel:.1e} under {c.transform}, above your tolerance {tol:.1e}, so the check would fail a correct model"
            )
    model, h, x, ei = _egnn_cloud(7, 4, 1.0)
    bias = BUG_SIZE * float(x.abs().max()) * torch.tensor([0.6, 0.0, 0.8], dtype=x.dtype)

    def broken(h_, x_, ei_):
        h_out, x_out = model(h_, x_, ei_)
        return h_out, x_out + bias  # a stray bias on the coordinates: it does not rotate

    report = check_equivariance(broken, h, x, ei, draws=2, rtol=tol)
    if report.passed:
        raise Incorrect(
            f"too loose: a model with a stray coordinate bias (relative error {report.worst('rotation'):.1e} under rotation) "
            f"passes at your tolerance {tol:.1e}, so the check would miss a real bug"
        )
    eps = torch.finfo(torch.float32).eps
    return (
        f"tolerance {tol:.1e} = {tol / eps:.0f} machine epsilons: it passes every correct float32 EGNN tried "
        f"(worst error given {given:.1e}) and fails the model with a stray bias ({report.worst('rotation'):.1e})."
    )


# --------------------------------------------------------------------------------------------
# 2.4  mystery functions
# --------------------------------------------------------------------------------------------


def mystery_a(h, x, edge_index):
    """Push every point away from the origin, more the farther it is."""
    return h, x * (1 + 0.1 * (x * x).sum(dim=1, keepdim=True))


def mystery_b(h, x, edge_index):
    """Stretch the cloud about its centroid along the second axis, squeeze it along the third."""
    c = x.mean(dim=0)
    return h, c + (x - c) * torch.tensor([1.0, 1.2, 0.8], dtype=x.dtype)


def mystery_c(h, x, edge_index):
    """A per-node score from two feature-weighted directions: y_i . (a x b)."""
    y = x - x.mean(dim=0)
    a = (h[:, :1] * y).sum(dim=0)
    b = (h[:, 1:2] * y).sum(dim=0)
    return h + (y @ torch.linalg.cross(a, b)).unsqueeze(1), x


def mystery_d(h, x, edge_index):
    """Add a 'position in the list' encoding to the features."""
    return h + 0.1 * torch.arange(h.shape[0], dtype=h.dtype).unsqueeze(1), x


def mystery_e(h, x, edge_index):
    """Features get the squared distance to the centroid; points move 10% away from it."""
    c = x.mean(dim=0)
    return h + ((x - c) ** 2).sum(dim=1, keepdim=True), x + 0.1 * (x - c)


MYSTERIES = {"a": mystery_a, "b": mystery_b, "c": mystery_c, "d": mystery_d, "e": mystery_e}


def mystery_graph(dtype=torch.float64):
    """The graph the mysteries are checked on: 6 nodes in 3-D, 2 features, complete."""
    gen = torch.Generator().manual_seed(24)
    h = torch.randn(6, 2, generator=gen, dtype=torch.float64).to(dtype)
    x = torch.randn(6, 3, generator=gen, dtype=torch.float64).to(dtype)
    return h, x, fully_connected(6)


def mystery_truth() -> dict[str, set[str]]:
    h, x, ei = mystery_graph()
    return {name: {c.transform for c in check_equivariance(f, h, x, ei).failures()} for name, f in MYSTERIES.items()}


@exercise("2.4", "which transforms does it break?")
def check_mysteries(mystery_answers) -> str:
    answers = mystery_answers() if callable(mystery_answers) else mystery_answers  # a function or the dict itself
    if not isinstance(answers, dict):
        raise Incorrect(f"return a dict {{'a': {{...}}, 'b': ...}}, got {type(answers).__name__}")
    truth = mystery_truth()
    problems = []
    for name in MYSTERIES:
        if name not in answers:
            problems.append(f"no answer for mystery {name!r}")
            continue
        given = answers[name]
        given = {given} if isinstance(given, str) else set(given or ())
        given = {str(t).strip().lower() for t in given}
        unknown = given - set(TRANSFORMS)
        if unknown:
            problems.append(f"mystery {name!r}: unknown transform(s) {sorted(unknown)}; choose from {TRANSFORMS}")
            continue
        extra, missing = given - truth[name], truth[name] - given
        if extra:
            problems.append(f"mystery {name!r} passes {', '.join(sorted(extra))}")
        if missing:
            problems.append(f"mystery {name!r} breaks {len(missing)} transform(s) you did not list")
    if problems:
        raise Incorrect("; ".join(problems))
    summary = ", ".join(f"{k}: {', '.join(sorted(v)) or 'none'}" for k, v in truth.items())
    return f"all five right ({summary})."
