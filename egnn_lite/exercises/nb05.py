"""Checkers for the exercises of notebooks/05 (momentum: the velocity extension and the N-body experiment).

5.1  one Eq. 7 step: v_i = phi_v(h_i) v_i^init + C sum_j (x_i - x_j) w_ij, x_i <- x_i + v_i
5.2  Newton's third law: symmetric pair weights w_ij = w_ji, so that total momentum is conserved
5.3  time-reversed training pairs: (x40, -v40) -> x30

Each verdict names what is wrong: a sign, a missing C, velocities that were translated, a
transform of the harness that failed.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..checks import check_equivariance
from ..graphs import fully_connected
from ..layers import coefficient_C, coordinate_sum, reverse_edges, symmetric_pair_weights
from . import Incorrect, exercise, tensor_answer
from . import close as _close
from . import describe as _describe

F64 = torch.float64


def _pair(out, name: str, shape: tuple) -> tuple[Tensor, Tensor]:
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Incorrect(f"{name} should return two tensors, (x_new, v_new); got {_describe(out)}")
    return tensor_answer(out[0], f"{name}[0] (x_new)", shape), tensor_answer(out[1], f"{name}[1] (v_new)", shape)


# --------------------------------------------------------------------------------------------
# 5.1  one step of Eq. 7
# --------------------------------------------------------------------------------------------


def _eq7(phi_v_h: Tensor, v_init: Tensor, x: Tensor, ei: Tensor, w: Tensor, C) -> tuple[Tensor, Tensor]:
    x_diff = x[ei[0]] - x[ei[1]]
    v_new = phi_v_h * v_init + coordinate_sum(x_diff, w, ei, x.shape[0], C)
    return x + v_new, v_new


def _eq7_into_sender(phi_v_h: Tensor, v_init: Tensor, x: Tensor, ei: Tensor, w: Tensor) -> tuple[Tensor, Tensor]:
    """The common slip: each edge's term (x_i - x_j) w_ij summed onto j instead of i."""
    N = x.shape[0]
    pair = torch.zeros_like(x).index_add_(0, ei[1], (x[ei[0]] - x[ei[1]]) * w)
    v_new = phi_v_h * v_init + coefficient_C(ei.flip(0), N, "mean", x.dtype) * pair
    return x + v_new, v_new


@exercise("5.1", "one step of Eq. 7, the velocity extension")
def check_eq7_step(eq7_step) -> str:
    N = 7
    gen = torch.Generator().manual_seed(51)
    ei = fully_connected(N)
    ei = ei[:, torch.rand(ei.shape[1], generator=gen) < 0.6]  # degrees differ, so C differs per node
    ei = ei[:, ei[0] != N - 1]  # the last node receives nothing: it moves by phi_v v only
    x = torch.randn(N, 3, generator=gen, dtype=F64)
    v = torch.randn(N, 3, generator=gen, dtype=F64)
    s = torch.rand(N, 1, generator=gen, dtype=F64) + 0.5
    w = torch.randn(ei.shape[1], 1, generator=gen, dtype=F64)
    out = eq7_step(s.clone(), v.clone(), x.clone(), ei.clone(), w.clone())
    if isinstance(out, (tuple, list)) and len(out) == 2 and all(isinstance(t, Tensor) and t.shape == (N, 3) for t in out):
        bad = ~(torch.isfinite(out[0]).all(1) & torch.isfinite(out[1]).all(1))
        if bad.any() and bad.nonzero().flatten().tolist() == [N - 1]:
            raise Incorrect(f"node {N - 1} has no neighbours and came out NaN or inf: its C = 1/0. Count the neighbours "
                            "with a floor of 1 (clamp(min=1)); its pair sum is empty anyway, so it moves by phi_v v only")
    got_x, got_v = _pair(out, "eq7_step(phi_v_h, v_init, x, edge_index, w)", (N, 3))
    C = coefficient_C(ei, N, "mean", F64)
    want_x, want_v = _eq7(s, v, x, ei, w, C)
    if _close(got_x, want_x) and _close(got_v, want_v):
        # phi_v(h) rides in h and the weights w_ij in the edge attributes, so the harness carries both
        # along when it relabels nodes and reorders edges; x -> Qx + g, v -> Qv
        report = check_equivariance(lambda h, x_, ei_, edge_attr, v: eq7_step(h, v, x_, ei_, edge_attr), s, x, ei, w, v,
                                    outputs=("position", "vector"), names=("x_new", "v_new"))
        if not report.passed:
            raise Incorrect(f"right on the plain input, but not equivariant:\n{report}")
        return ("x_new and v_new equal Eq. 7 on a graph of 7 nodes with different numbers of neighbours (C = 1/degree), "
                f"and pass the harness with x -> Qx + g, v -> Qv (rotation, reflection, translation, permutation; worst error {report.worst():.0e}).")
    diagnoses = [
        (_eq7(s, v, x, ei, -w, C), "the pair term has the wrong sign: Eq. 7 sums (x_i - x_j) phi_x(m_ij), x_i minus its neighbour"),
        (_eq7(s, v, x, ei, -w, 1.0), "two things: the pair term has the wrong sign (Eq. 7 sums (x_i - x_j) phi_x(m_ij)), and C is missing (1 over each node's number of neighbours)"),
        (_eq7(s, v, x, ei, w, coefficient_C(ei.flip(0), N, "mean", F64)), "C counts the edges *into* node i (edge_index[0] is the receiver); you counted the edges out of it (edge_index[1])"),
        (_eq7_into_sender(s, v, x, ei, w), "the sum goes to the receiving node i = edge_index[0]; you added each edge's term to its sender j = edge_index[1]"),
        (_eq7(s, v, x, ei, w, 1.0), "C is missing: Eq. 7 multiplies the sum by C = 1/(M - 1), here 1 over each node's number of neighbours"),
        (_eq7(s, v, x, ei, w, 1.0 / (N - 1)), "C is 1 over the number of neighbours of node i (the edges into i), not 1/(N - 1) for the whole graph"),
        (_eq7(s, v, x, ei, torch.zeros_like(w), C), "only phi_v(h) v_init: the pair sum C sum_j (x_i - x_j) phi_x(m_ij) is missing"),
        (_eq7(torch.zeros_like(s), v, x, ei, w, C), "phi_v(h_i) v_init is missing: each layer starts from a learned multiple of the initial velocity"),
        (_eq7(torch.ones_like(s), v, x, ei, w, C), "you added v_init itself; Eq. 7 scales it by phi_v(h_i) first (the argument phi_v_h)"),
    ]
    for (wx, wv), reason in diagnoses:
        if _close(got_x, wx) and _close(got_v, wv):
            raise Incorrect(reason)
    if _close(got_v, want_v) and _close(got_x, want_v):
        raise Incorrect("x_new is v_new: the position moves by the velocity, x_new = x + v_new")
    if _close(got_v, want_v):
        raise Incorrect(f"v_new is right, x_new is not (off by up to {(got_x - want_x).abs().max().item():.2e}): Eq. 7's second line is x_new = x + v_new")
    if _close(got_x, want_x) and _close(got_v, want_x):
        raise Incorrect("v_new is the new position: return the velocity v_new, which moves x but is not a position (it is never translated)")
    raise Incorrect(f"differs from Eq. 7 by up to {max((got_x - want_x).abs().max().item(), (got_v - want_v).abs().max().item()):.2e}")


# --------------------------------------------------------------------------------------------
# 5.2  Newton's third law
# --------------------------------------------------------------------------------------------


@exercise("5.2", "Newton's third law: symmetric pair weights")
def check_newton3(newton3) -> str:
    B, n = 3, 5
    gen = torch.Generator().manual_seed(52)
    ei = fully_connected([n] * B)
    ei = ei[:, torch.randperm(ei.shape[1], generator=gen)]  # any edge order: find (j, i) by its ends, not by position
    N = B * n
    w = torch.randn(ei.shape[1], 1, generator=gen, dtype=F64)
    got = tensor_answer(newton3(w.clone(), ei.clone()), "newton3(w, edge_index)", (ei.shape[1], 1))
    want = symmetric_pair_weights(w, ei, N)
    rev = reverse_edges(ei, N)
    if _close(got, want):
        x = torch.randn(N, 3, generator=gen, dtype=F64)
        step = coordinate_sum(x[ei[0]] - x[ei[1]], got, ei, N, 1.0)
        total = step.reshape(B, n, 3).sum(1).abs().max().item()
        before = coordinate_sum(x[ei[0]] - x[ei[1]], w, ei, N, 1.0).reshape(B, n, 3).sum(1).abs().max().item()
        return (f"w_ij = (w_ij + w_ji) / 2 on edges in a shuffled order. The pair updates now cancel: the sum over each system of "
                f"sum_j (x_i - x_j) w_ij is {total:.1e} (it was {before:.2f} with the raw weights).")
    diagnoses = [
        (w + w[rev], "w_ij + w_ji is symmetric too, and would conserve momentum, but it doubles every weight: take the average, (w_ij + w_ji) / 2"),
        (w[rev], "that is w_ji alone: it swaps the two directions instead of making them equal"),
        (0.5 * (w - w[rev]), "(w_ij - w_ji) / 2 is antisymmetric; the *update* (x_i - x_j) w_ij must be antisymmetric, so the weight must be symmetric"),
        (w, "the weights are unchanged: w_ij and w_ji differ, so the pair updates do not cancel"),
        (0.5 * (w + w.flip(0)), "you paired each edge with the edge at the mirrored position; the reverse of (i, j) is the edge whose ends are (j, i), wherever it is"),
    ]
    for wrong, reason in diagnoses:
        if _close(got, wrong):
            raise Incorrect(reason)
    asym = (got - got[rev]).abs().max().item()
    if asym > 1e-12:
        raise Incorrect(f"not symmetric: w_ij and w_ji differ by up to {asym:.2e}")
    raise Incorrect(f"symmetric, but not the average of the two directions (off by up to {(got - want).abs().max().item():.2e})")


# --------------------------------------------------------------------------------------------
# 5.3  time-reversed pairs
# --------------------------------------------------------------------------------------------


@exercise("5.3", "time-reversed training pairs")
def check_reversed_pair(reversed_pair) -> str:
    gen = torch.Generator().manual_seed(53)
    x30, v30, x40, v40 = (torch.randn(4, 5, 3, generator=gen, dtype=F64) for _ in range(4))
    out = reversed_pair(x30.clone(), v30.clone(), x40.clone(), v40.clone())
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise Incorrect(f"reversed_pair should return three tensors (x_start, v_start, x_target); got {_describe(out)}")
    got = [tensor_answer(t, f"reversed_pair(...)[{k}]", (4, 5, 3)) for k, t in enumerate(out)]
    want = [x40, -v40, x30]
    if all(_close(g, w_) for g, w_ in zip(got, want)):
        return "(x40, -v40) -> x30: the trajectory run backwards, a second training pair from every trajectory at no simulation cost."
    diagnoses = [
        ([x40, v40, x30], "the velocity must be reversed too: running the film backwards, every particle moves the other way, so start from -v40"),
        ([x40, -v30, x30], "start from the velocity at frame 40 (where the backward run starts), reversed: -v40, not -v30"),
        ([x40, v30, x30], "start from -v40: the velocity at frame 40, where the backward run starts, reversed"),
        ([x30, -v30, x40], "that is the forward pair with its velocity flipped; the reversed pair starts at frame 40 and ends at frame 30"),
        ([-x40, -v40, -x30], "positions are not reversed by time reversal (only velocities are): x stays x"),
    ]
    for wrong, reason in diagnoses:
        if all(_close(g, w_) for g, w_ in zip(got, wrong)):
            raise Incorrect(reason)
    names = ("x_start", "v_start", "x_target")
    bad = [nm for nm, g, w_ in zip(names, got, want) if not _close(g, w_)]
    verb = "is" if len(bad) == 1 else "are"
    raise Incorrect(f"{' and '.join(bad)} {verb} not what the backward run needs: where does it start (which frame), "
                    "with which velocity, and where must it end?")
