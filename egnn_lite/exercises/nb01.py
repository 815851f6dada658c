"""Checkers for the exercises of notebooks/01 (the proof sketch as code)."""

from __future__ import annotations

import torch

from ..checks import TRANSFORMS, check_equivariance
from ..graphs import fully_connected
from . import Incorrect, exercise


def _cloud(n_nodes: int = 7, seed: int = 11):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n_nodes, 3, generator=gen, dtype=torch.float64)
    h = torch.randn(n_nodes, 2, generator=gen, dtype=torch.float64)
    return h, x, fully_connected(n_nodes)


def _tensor(out, name: str, shape: tuple) -> torch.Tensor:
    if not isinstance(out, torch.Tensor):
        raise Incorrect(f"{name} should return a torch tensor, got {type(out).__name__}")
    if tuple(out.shape) != shape:
        raise Incorrect(f"{name} should return shape {shape}, got {tuple(out.shape)}")
    return out


def reference_sq_distance_sum(x: torch.Tensor) -> torch.Tensor:
    """sum_j ||x_i - x_j||^2 for each node i, as an (N, 1) column."""
    return torch.cdist(x, x).pow(2).sum(dim=1, keepdim=True)


def reference_coordinate_step(x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """x_i + C sum_{j != i} (x_i - x_j) exp(-||x_i - x_j||^2), C = 1 / (number of neighbours)."""
    i, j = edge_index
    diff = x[i] - x[j]
    w = torch.exp(-(diff * diff).sum(dim=1, keepdim=True))
    out = torch.zeros_like(x).index_add_(0, i, diff * w)
    count = torch.bincount(i, minlength=x.shape[0]).clamp(min=1).to(x.dtype).unsqueeze(1)
    return x + out / count


def broken_step(x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """Exercise 1.3's update: x_j where Eq. 4 has x_i - x_j."""
    i, j = edge_index
    diff = x[i] - x[j]
    w = torch.exp(-(diff * diff).sum(dim=1, keepdim=True))
    out = torch.zeros_like(x).index_add_(0, i, x[j] * w)
    count = torch.bincount(i, minlength=x.shape[0]).clamp(min=1).to(x.dtype).unsqueeze(1)
    return x + out / count


@exercise("1.1", "an invariant node feature")
def _check_1_1(answer) -> str:
    h, x, ei = _cloud()
    got = _tensor(answer(x), "node_invariant(x)", (x.shape[0], 1))
    want = reference_sq_distance_sum(x)
    if not torch.allclose(got.double(), want, rtol=1e-9, atol=1e-9):
        raise Incorrect(f"for node 0 expected sum_j ||x_0 - x_j||^2 = {want[0, 0].item():.4f}, got {got[0, 0].item():.4f}")
    report = check_equivariance(lambda h_, x_, ei_: answer(x_), h, x, ei, outputs=("invariant",), names=("feature",))
    if not report.passed:
        raise Incorrect(f"right values, but not invariant under {', '.join(c.transform for c in report.failures())}")
    return (
        "invariant under rotations, reflections and translations, and permuted with the nodes under permutations "
        f"(worst relative error {max(c.max_rel for c in report.checks):.1e})."
    )


@exercise("1.2", "Eq. 4 with a fixed phi_x")
def _check_1_2(answer) -> str:
    h, x, ei = _cloud()
    got = _tensor(answer(x, ei), "coordinate_step(x, edge_index)", tuple(x.shape))
    want = reference_coordinate_step(x, ei)
    if not torch.allclose(got.double(), want, rtol=1e-9, atol=1e-9):
        worst = (got.double() - want).abs().max().item()
        hint = ""
        if torch.allclose(got.double() - x, (want - x) * (x.shape[0] - 1), rtol=1e-9, atol=1e-9):
            hint = " (it looks like C = 1 was used; here C = 1 / (number of neighbours of i), which is 1/(M - 1) on the complete graph)"
        raise Incorrect(f"values differ from x_i + C sum_j (x_i - x_j) exp(-||x_i - x_j||^2) by up to {worst:.2e}{hint}")
    report = check_equivariance(lambda h_, x_, ei_: answer(x_, ei_), h, x, ei, outputs=("position",), names=("x_next",))
    if not report.passed:
        raise Incorrect(f"not equivariant under {', '.join(c.transform for c in report.failures())}")
    return f"E(n)- and permutation-equivariant (worst relative error {max(c.max_rel for c in report.checks):.1e})."


@exercise("1.3", "which transforms does x_j break?")
def _check_1_3(answer) -> str:
    if callable(answer):
        answer = answer()
    if isinstance(answer, str):
        answer = {answer}
    try:
        chosen = {str(a).strip().lower() for a in answer}
    except TypeError:
        raise Incorrect("answer with a set of transform names, for example {'rotation'}") from None
    unknown = chosen - set(TRANSFORMS)
    if unknown:
        raise Incorrect(f"unknown transform name(s) {sorted(unknown)}; choose from {list(TRANSFORMS)}")
    h, x, ei = _cloud()
    report = check_equivariance(lambda h_, x_, ei_: broken_step(x_, ei_), h, x, ei, outputs=("position",), names=("x_next",))
    failed = {c.transform for c in report.failures()}
    if chosen != failed:
        missing, extra = failed - chosen, chosen - failed
        parts = ([f"it also breaks {sorted(missing)}"] if missing else []) + ([f"it does not break {sorted(extra)}"] if extra else [])
        raise Incorrect("; ".join(parts) + " -- run check_equivariance on broken_step and read the table")
    return f"the harness agrees: {sorted(failed)} fails, the others pass."
