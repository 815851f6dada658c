"""The one equivariance harness (paper Sec. 3, the proof made numerical).

For a function f of a graph and a group element g, it compares f(g.input) with g.f(input):

    rotation     x -> Q x + 0, det Q = +1       (v -> Q v)
    reflection   x -> Q x + 0, det Q = -1       (v -> Q v)
    translation  x -> x + g                     (v unchanged)
    permutation  nodes relabelled, edges relabelled with them and listed in a new order

and reports, per transform and per output, the largest absolute error, the largest relative
error (absolute error divided by the largest entry of g.f(input)), the tolerance for the dtype,
and pass or fail. What each output should do is declared by its kind:

    "invariant"        per-node features: only permuted                     (h)
    "position"         per-node points: x -> Q x + g, permuted              (x)
    "vector"           per-node vectors: v -> Q v, never translated         (v, forces)
    "graph_invariant"  one value per graph, unchanged by everything         (energies)
    "edge_invariant"   one value per edge (first axis E): unchanged by E(n),
                       relabelled and reordered with the edges               (e_ij, Eq. 8)

Tolerances are relative and depend on the dtype, because rounding does: float64 carries about
16 significant digits, float32 about 7. A correct network stays within a few hundred to a few
thousand units of rounding; a broken one is off by order one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from .groups import EuclideanTransform, Permutation, random_orthogonal, random_translation

__all__ = [
    "DEFAULT_RTOL",
    "OUTPUT_KINDS",
    "TRANSFORMS",
    "Check",
    "EquivarianceReport",
    "EquivarianceError",
    "check_equivariance",
    "assert_equivariant",
    "compare",
    "default_rtol",
]

DEFAULT_RTOL = {torch.float64: 1e-12, torch.float32: 1e-5, torch.float16: 1e-2, torch.bfloat16: 5e-2}
OUTPUT_KINDS = ("invariant", "position", "vector", "graph_invariant", "edge_invariant")
TRANSFORMS = ("rotation", "reflection", "translation", "permutation")


def default_rtol(dtype: torch.dtype) -> float:
    """The relative tolerance for a dtype: 1e-12 for float64, 1e-5 for float32."""
    if dtype not in DEFAULT_RTOL:
        raise ValueError(f"no default tolerance for {dtype}; pass rtol=")
    return DEFAULT_RTOL[dtype]


class EquivarianceError(AssertionError):
    """Raised by ``assert_equivariant``; the message names the transform and output that failed."""


@dataclass(frozen=True)
class Check:
    """One comparison: one transform (all its random draws), one output."""

    transform: str
    output: str
    kind: str
    dtype: torch.dtype
    max_abs: float
    max_rel: float
    rtol: float
    draws: int

    @property
    def passed(self) -> bool:
        return math.isfinite(self.max_rel) and self.max_rel <= self.rtol


@dataclass
class EquivarianceReport:
    """All checks of one harness run. ``print(report)`` shows a table; ``bool(report)`` is pass."""

    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def __bool__(self) -> bool:
        return self.passed

    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def worst(self, transform: str | None = None, output: str | None = None) -> float:
        """The largest relative error over the checks that match."""
        errs = [c.max_rel for c in self.checks if transform in (None, c.transform) and output in (None, c.output)]
        if not errs:
            raise KeyError(f"no check for transform={transform!r}, output={output!r}")
        return max(errs)

    def __str__(self) -> str:
        head = ("transform", "output", "kind under E(n)", "dtype", "max abs err", "max rel err", "tolerance", "result")
        rows = [
            (
                c.transform,
                c.output,
                c.kind,
                str(c.dtype).replace("torch.", ""),
                f"{c.max_abs:.2e}",
                f"{c.max_rel:.2e}",
                f"{c.rtol:.0e}",
                "ok" if c.passed else "FAIL",
            )
            for c in self.checks
        ]
        widths = [max(len(r[k]) for r in [head] + rows) for k in range(len(head))]
        lines = ["  ".join(s.ljust(w) for s, w in zip(r, widths)).rstrip() for r in [head] + rows]
        verdict = "all passed" if self.passed else f"{len(self.failures())} of {len(self.checks)} FAILED"
        return "\n".join(lines + [verdict])

    _repr_pretty_ = lambda self, p, cycle: p.text(str(self))  # noqa: E731  (IPython shows the table)


def _as_tuple(out) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _draw(name: str, n: int, num_nodes: int, num_edges: int, scale: float, gen: torch.Generator, dtype):
    if name == "rotation":
        return EuclideanTransform(random_orthogonal(n, 1, generator=gen, dtype=dtype), torch.zeros(n, dtype=dtype), name)
    if name == "reflection":
        return EuclideanTransform(random_orthogonal(n, -1, generator=gen, dtype=dtype), torch.zeros(n, dtype=dtype), name)
    if name == "translation":
        return EuclideanTransform(torch.eye(n, dtype=dtype), random_translation(n, scale, generator=gen, dtype=dtype), name)
    if name == "euclidean":  # any element of E(n): random determinant, rotation and translation together
        det = 1 if torch.rand((), generator=gen) < 0.5 else -1
        Q = random_orthogonal(n, det, generator=gen, dtype=dtype)
        return EuclideanTransform(Q, random_translation(n, scale, generator=gen, dtype=dtype), name)
    if name == "permutation":
        return Permutation.random(num_nodes, num_edges, generator=gen)
    raise ValueError(f"unknown transform {name!r}; choose from {TRANSFORMS + ('euclidean',)}")


def _expected(kind: str, y: Tensor, g, edge_index: Tensor) -> Tensor:
    if isinstance(g, Permutation):
        if kind == "edge_invariant":
            return g.act_edges(edge_index, y)[1]
        return y if kind == "graph_invariant" else g.act_nodes(y)
    if kind in ("invariant", "graph_invariant", "edge_invariant"):
        return y
    if kind == "position":
        return g.act_x(y)
    return g.act_v(y)  # vector


def check_equivariance(
    f: Callable,
    h: Tensor,
    x: Tensor,
    edge_index: Tensor,
    edge_attr: Tensor | None = None,
    v: Tensor | None = None,
    *,
    outputs: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    transforms: Sequence[str] = TRANSFORMS,
    draws: int = 3,
    rtol: float | None = None,
    seed: int = 0,
) -> EquivarianceReport:
    """Compare f(g.input) with g.f(input) for every transform in ``transforms``.

    ``f`` is called as ``f(h, x, edge_index)``, with ``edge_attr`` and ``v`` added as keyword
    arguments when they are given, and returns one tensor or a tuple; ``outputs`` gives the kind
    of each (see the module docstring; default ("invariant", "position"), plus "vector" when
    ``v`` is given, as for EGNN) and ``names`` their labels (default h, x, v, ...).
    Translations are drawn at the scale of x, so that rounding, not the size of g, sets the error.
    Runs under ``torch.no_grad()``.
    """
    if outputs is None:
        outputs = ("invariant", "position") if v is None else ("invariant", "position", "vector")
    for k in outputs:
        if k not in OUTPUT_KINDS:
            raise ValueError(f"unknown output kind {k!r}; choose from {OUTPUT_KINDS}")
    if draws < 1:
        raise ValueError("draws must be at least 1")
    if x.dim() != 2:
        raise ValueError(f"x must have shape (N, n), got {tuple(x.shape)}")
    if names is None:  # h, x, v for the usual (invariant, position, vector) outputs, else out0, out1, ...
        usual = ("invariant", "position", "vector")
        names = ["hxv"[k] if k < 3 and kind == usual[k] else f"out{k}" for k, kind in enumerate(outputs)]
    names = list(names)
    if len(names) != len(outputs):
        raise ValueError(f"{len(names)} names for {len(outputs)} outputs")
    dtype = x.dtype
    tol = default_rtol(dtype) if rtol is None else float(rtol)
    gen = torch.Generator().manual_seed(seed)
    n, num_nodes, num_edges = x.shape[1], x.shape[0], edge_index.shape[1]
    scale = float(x.detach().abs().max()) if x.numel() else 1.0
    scale = scale if scale > 0 else 1.0

    def call(h_, x_, ei_, ea_, v_):
        kwargs = {}
        if ea_ is not None:
            kwargs["edge_attr"] = ea_
        if v_ is not None:
            kwargs["v"] = v_
        out = _as_tuple(f(h_, x_, ei_, **kwargs))
        if len(out) != len(outputs):
            raise ValueError(f"f returned {len(out)} outputs but outputs= declares {len(outputs)}: {tuple(outputs)}; pass outputs= with one kind per output")
        return out

    report = EquivarianceReport()
    with torch.no_grad():
        base = call(h, x, edge_index, edge_attr, v)
        for name in transforms:
            worst_abs = [0.0] * len(outputs)
            worst_rel = [0.0] * len(outputs)
            for _ in range(draws):
                g = _draw(name, n, num_nodes, num_edges, scale, gen, dtype)
                ei_g, ea_g = g.act_edges(edge_index, edge_attr)
                out = call(g.act_h(h), g.act_x(x), ei_g, ea_g, None if v is None else g.act_v(v))
                for k, (kind, y, y_g) in enumerate(zip(outputs, base, out)):
                    want = _expected(kind, y, g, edge_index)
                    if want.shape != y_g.shape:
                        raise ValueError(f"output {names[k]!r}: shape {tuple(y_g.shape)} after {name}, {tuple(want.shape)} expected")
                    if want.numel() == 0:
                        continue
                    diff = (y_g.double() - want.double()).abs().max().item()
                    ref = want.double().abs().max().item()
                    rel = diff / ref if ref > 0 else (0.0 if diff == 0 else math.inf)
                    if not (math.isfinite(diff) and math.isfinite(rel)):
                        diff, rel = math.inf, math.inf
                    worst_abs[k] = max(worst_abs[k], diff)
                    worst_rel[k] = max(worst_rel[k], rel)
            for k, kind in enumerate(outputs):
                report.checks.append(Check(name, names[k], kind, dtype, worst_abs[k], worst_rel[k], tol, draws))
    return report


def compare(label: str, got: Tensor, want: Tensor, *, rtol: float | None = None) -> None:
    """Print one line saying whether ``got`` equals ``want``: exactly, up to rounding, or not.

    "up to rounding" means a relative error (max |got - want| / max |want|) within the dtype's
    tolerance (``default_rtol``), the same rule as ``check_equivariance``.
    """
    got, want = torch.as_tensor(got), torch.as_tensor(want)
    if got.shape != want.shape:
        print(f"{label:<46} shapes differ: {tuple(got.shape)} vs {tuple(want.shape)}")
        return
    tol = default_rtol(got.dtype if got.is_floating_point() else torch.float64) if rtol is None else rtol
    diff = (got.double() - want.double()).abs().max().item() if got.numel() else 0.0
    ref = want.double().abs().max().item() if want.numel() else 0.0
    rel = diff / ref if ref > 0 else (0.0 if diff == 0 else math.inf)
    verdict = "exact" if diff == 0 else ("equal up to rounding" if rel <= tol else "DIFFERENT")
    print(f"{label:<46} {verdict:<21} max diff {diff:.1e}   relative {rel:.1e}")


def assert_equivariant(f: Callable, h: Tensor, x: Tensor, edge_index: Tensor, edge_attr: Tensor | None = None, v: Tensor | None = None, **kwargs) -> EquivarianceReport:
    """Run ``check_equivariance`` and raise ``EquivarianceError`` naming every failed check."""
    report = check_equivariance(f, h, x, edge_index, edge_attr, v, **kwargs)
    if not report.passed:
        failed = "; ".join(
            f"{c.transform}: output {c.output!r} ({c.kind}) relative error {c.max_rel:.2e} > tolerance {c.rtol:.0e}" for c in report.failures()
        )
        raise EquivarianceError(f"not equivariant -- {failed}\n{report}")
    return report
