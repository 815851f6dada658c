"""The checkers of notebook 05's exercises: right answers are "correct", each typical mistake is
"not yet" with a reason that names it."""

import pytest
import torch

from exercise_tools import assert_named, stub, verdict
from egnn_lite.layers import coefficient_C, coordinate_sum, reverse_edges

pytestmark = pytest.mark.usefixtures("lenient_exercises")


# ---------------------------------------------------------------- 5.1 one step of Eq. 7


def eq7(s, v, x, ei, w, C=None, sign=1.0):
    N = x.shape[0]
    C = coefficient_C(ei, N, "mean", x.dtype) if C is None else C
    v_new = s * v + sign * coordinate_sum(x[ei[0]] - x[ei[1]], w, ei, N, C)
    return x + v_new, v_new


def eq7_loops(s, v, x, ei, w):
    """Written out over nodes, as a reader might."""
    N = x.shape[0]
    x_new, v_new = x.clone(), v.clone()
    for i in range(N):
        into = (ei[0] == i).nonzero().flatten()
        pair = sum(((x[i] - x[ei[1, k]]) * w[k] for k in into), torch.zeros(3, dtype=x.dtype))
        v_new[i] = s[i] * v[i] + pair / max(len(into), 1)
        x_new[i] = x[i] + v_new[i]
    return x_new, v_new


def assert_correct(exercise_id, answers, words):
    for answer in answers:
        status, message = verdict(exercise_id, answer)
        assert status == "correct" and words in message, message


def into_sender(s, v, x, ei, w):
    N = x.shape[0]
    pair = torch.zeros_like(x).index_add_(0, ei[1], (x[ei[0]] - x[ei[1]]) * w)
    C = 1.0 / torch.bincount(ei[1], minlength=N).clamp(min=1).to(x.dtype).unsqueeze(1)
    return x + s * v + C * pair, s * v + C * pair


def no_floor(s, v, x, ei, w):
    N = x.shape[0]
    pair = torch.zeros_like(x).index_add_(0, ei[0], (x[ei[0]] - x[ei[1]]) * w)
    v_new = s * v + pair / torch.bincount(ei[0], minlength=N).to(x.dtype).unsqueeze(1)
    return x + v_new, v_new


def test_eq7_step_correct():
    assert_correct("5.1", (eq7, eq7_loops), "permutation")


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda s, v, x, ei, w: eq7(s, v, x, ei, w, sign=-1.0), "wrong sign"),
        (lambda s, v, x, ei, w: eq7(s, v, x, ei, w, C=1.0), "C is missing"),
        (lambda s, v, x, ei, w: eq7(s, v, x, ei, w, C=1.0, sign=-1.0), "two things"),
        (lambda s, v, x, ei, w: eq7(s, v, x, ei, w, C=coefficient_C(ei.flip(0), x.shape[0], "mean", x.dtype)), "edges *into* node i"),
        (into_sender, "its sender"),
        (no_floor, "clamp(min=1)"),
        (lambda s, v, x, ei, w: eq7(s, v, x, ei, w, C=1.0 / 6), "number of neighbours of node i"),
        (lambda s, v, x, ei, w: eq7(s, v, x, ei, 0 * w), "pair sum"),
        (lambda s, v, x, ei, w: eq7(0 * s, v, x, ei, w), "phi_v(h_i) v_init is missing"),
        (lambda s, v, x, ei, w: eq7(torch.ones_like(s), v, x, ei, w), "scales it by phi_v"),
        (lambda s, v, x, ei, w: (eq7(s, v, x, ei, w)[1], eq7(s, v, x, ei, w)[1]), "x_new is v_new"),
        (lambda s, v, x, ei, w: (eq7(s, v, x, ei, w)[0], eq7(s, v, x, ei, w)[0]), "never translated"),
        (lambda s, v, x, ei, w: (x + 2 * eq7(s, v, x, ei, w)[1], eq7(s, v, x, ei, w)[1]), "x_new = x + v_new"),
        (lambda s, v, x, ei, w: eq7(s, v, x, ei, w)[0], "two tensors"),
        (stub, None),
    ],
)
def test_eq7_step_mistakes_are_named(answer, words):
    assert_named("5.1", answer, words)


def test_eq7_step_right_on_the_input_but_not_equivariant_is_caught():
    """Right on the checker's input, wrong on any other: the harness, not the reference, catches it."""
    first = {}

    def memorised(s, v, x, ei, w):
        if not first:
            first["x"] = x.clone()
        if torch.equal(x, first["x"]):
            return eq7(s, v, x, ei, w)
        return eq7(s, v, x, ei, w, C=1.0)

    status, message = verdict("5.1", memorised)
    assert status == "not yet" and "not equivariant" in message


# ---------------------------------------------------------------- 5.2 Newton's third law


def sym(w, ei):
    return 0.5 * (w + w[reverse_edges(ei, int(ei.max()) + 1)])


def sym_loops(w, ei):
    where = {(int(i), int(j)): k for k, (i, j) in enumerate(ei.T)}
    return torch.stack([0.5 * (w[k] + w[where[(j, i)]]) for (i, j), k in where.items()])


def test_newton3_correct():
    assert_correct("5.2", (sym, sym_loops), "cancel")


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda w, ei: 2 * sym(w, ei), "doubles"),
        (lambda w, ei: w[reverse_edges(ei, int(ei.max()) + 1)], "w_ji alone"),
        (lambda w, ei: w - sym(w, ei), "antisymmetric"),
        (lambda w, ei: w, "unchanged"),
        (lambda w, ei: 0.5 * (w + w.flip(0)), "mirrored position"),
        (lambda w, ei: 0.7 * sym(w, ei), "not the average"),
        (lambda w, ei: w[:5], "shape"),
        (stub, None),
    ],
)
def test_newton3_mistakes_are_named(answer, words):
    assert_named("5.2", answer, words)


# ---------------------------------------------------------------- 5.3 time-reversed pairs


def test_reversed_pair_correct():
    assert_correct("5.3", [lambda x30, v30, x40, v40: (x40, -v40, x30)], "backwards")


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda x30, v30, x40, v40: (x40, v40, x30), "reversed too"),
        (lambda x30, v30, x40, v40: (x40, -v30, x30), "not -v30"),
        (lambda x30, v30, x40, v40: (x40, v30, x30), "start from -v40"),
        (lambda x30, v30, x40, v40: (x30, -v30, x40), "forward pair"),
        (lambda x30, v30, x40, v40: (-x40, -v40, -x30), "x stays x"),
        (lambda x30, v30, x40, v40: (x40, -v40, x40), "x_target is not"),
        (lambda x30, v30, x40, v40: (x40, -v40), "a tuple of 2"),
        (stub, None),
    ],
)
def test_reversed_pair_mistakes_are_named(answer, words):
    assert_named("5.3", answer, words)
