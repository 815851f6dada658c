"""The checkers of notebook 02's exercises: a right answer is "correct", a wrong one is "not yet"
with a reason that names what failed, and the committed stub is "not attempted"."""

import pytest
import torch

from exercise_tools import verdict
from egnn_lite.exercises.nb02 import MYSTERIES, mystery_graph, mystery_truth


pytestmark = pytest.mark.usefixtures("lenient_exercises")



# ---------------------------------------------------------------- 2.1 handedness


def handedness(x):
    b = x[1:] - x[:-1]
    return (b[:-2] * torch.linalg.cross(b[1:-1], b[2:])).sum()


def test_handedness_correct():
    status, message = verdict("2.1", handedness)
    assert status == "correct", message


@pytest.mark.parametrize(
    "answer, names",
    [
        (lambda x: x.sum(), "rotation"),  # not invariant at all
        (lambda x: torch.linalg.det(x[:3]), "translation"),  # reads positions, not differences
        (lambda x: handedness(x) ** 2, "reflection"),  # invariant, blind to the mirror
        (lambda x: torch.zeros(()), "zero"),
        (lambda x: torch.ones(3), "one number"),
    ],
)
def test_handedness_wrong(answer, names):
    status, message = verdict("2.1", answer)
    assert status == "not yet" and names in message, message


# ---------------------------------------------------------------- 2.2 smooth limiter


def soft_limit(F, max_norm):
    norm = torch.linalg.vector_norm(F, dim=1, keepdim=True)
    return F * (max_norm * torch.tanh(norm / max_norm) / norm)


def test_soft_limit_correct():
    status, message = verdict("2.2", soft_limit)
    assert status == "correct", message


def hard_clip(F, max_norm):
    return F * (max_norm / torch.linalg.vector_norm(F, dim=1, keepdim=True)).clamp(max=1.0)


@pytest.mark.parametrize(
    "answer, names",
    [
        (lambda F, m: m * torch.tanh(F / m), "rotation"),  # smooth, but per component
        (lambda F, m: F.clamp(-m, m), "rotation"),  # the official simulator's clip
        (hard_clip, "kink"),  # equivariant, bounded, but not smooth
        (lambda F, m: F, "max_norm"),  # no limit at all
        (lambda F, m: F / (1 + torch.linalg.vector_norm(F, dim=1, keepdim=True)), "10%"),  # squashes small forces
    ],
)
def test_soft_limit_wrong(answer, names):
    status, message = verdict("2.2", answer)
    assert status == "not yet" and names in message, message


# ---------------------------------------------------------------- 2.3 float32 tolerance


def test_tolerance_correct():
    for answer in (lambda worst: 1e-5, lambda worst: max(100 * torch.finfo(torch.float32).eps, 10 * worst)):
        status, message = verdict("2.3", answer)
        assert status == "correct", message


@pytest.mark.parametrize(
    "answer, names",
    [
        (lambda worst: 1e-12, "too tight"),  # the float64 tolerance
        (lambda worst: worst, "too tight"),  # no margin for other models
        (lambda worst: 1e-3, "too loose"),  # misses a bug of size 1e-4
        (lambda worst: -1.0, "positive"),
        (lambda worst: None, "number"),
    ],
)
def test_tolerance_wrong(answer, names):
    status, message = verdict("2.3", answer)
    assert status == "not yet" and names in message, message


# ---------------------------------------------------------------- 2.4 mysteries


def test_mystery_truth_is_what_the_solution_says():
    assert mystery_truth() == {
        "a": {"translation"},
        "b": {"rotation", "reflection"},
        "c": {"reflection"},
        "d": {"permutation"},
        "e": set(),
    }
    h, x, ei = mystery_graph()
    assert set(MYSTERIES) == {"a", "b", "c", "d", "e"}
    for f in MYSTERIES.values():
        h_out, x_out = f(h, x, ei)
        assert h_out.shape == h.shape and x_out.shape == x.shape


def test_mysteries_correct():
    status, message = verdict("2.4", mystery_truth)
    assert status == "correct", message
    # sets, lists, single strings and None for "none" are all accepted
    answer = {"a": "Translation", "b": ["reflection", "rotation"], "c": ("reflection",), "d": {"permutation"}, "e": None}
    assert verdict("2.4", lambda: answer)[0] == "correct"
    assert verdict("2.4", answer)[0] == "correct"  # the dict itself, not only a function returning it


@pytest.mark.parametrize(
    "answer, names",
    [
        ({"a": {"rotation"}, "b": {"rotation", "reflection"}, "c": {"reflection"}, "d": {"permutation"}, "e": set()}, "mystery 'a' passes rotation"),
        ({"a": {"translation"}, "b": {"rotation"}, "c": {"reflection"}, "d": {"permutation"}, "e": set()}, "mystery 'b' breaks 1"),
        ({"a": {"translation"}, "b": {"rotation", "reflection"}, "c": {"reflection"}, "d": {"permutation"}}, "no answer for mystery 'e'"),
        ({"a": {"translations"}, "b": {"rotation", "reflection"}, "c": {"reflection"}, "d": {"permutation"}, "e": set()}, "unknown transform"),
        (["translation"], "dict"),
    ],
)
def test_mysteries_wrong(answer, names):
    status, message = verdict("2.4", lambda: answer)
    assert status == "not yet" and names in message, message
