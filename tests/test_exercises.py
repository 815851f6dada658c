"""The exercise auto-checks: three verdicts, strict mode for the tests, clear errors."""

from __future__ import annotations

import pytest
import torch

from egnn_lite import exercises
from egnn_lite.checks import compare
from egnn_lite.exercises import STRICT_ENV, check, registered
from egnn_lite.exercises import nb01


def stub(*args):
    raise NotImplementedError


def test_registered_ids():
    ids = registered()
    assert {"1.1", "1.2", "1.3"} <= set(ids)


@pytest.mark.parametrize(
    "ex, right, wrong",
    [
        ("1.1", lambda x: torch.cdist(x, x).pow(2).sum(1, keepdim=True), lambda x: x.pow(2).sum(1, keepdim=True)),
        ("1.2", nb01.reference_coordinate_step, nb01.broken_step),
        ("1.3", {"translation"}, {"rotation", "translation"}),
    ],
)
def test_verdicts(monkeypatch, ex, right, wrong):
    monkeypatch.delenv(STRICT_ENV, raising=False)
    assert check(ex, right).status == "correct"
    bad = check(ex, wrong)
    assert bad.status == "not yet" and bad.message
    assert check(ex, stub).status == "not attempted"


def test_not_invariant_named(monkeypatch):
    """A feature with the right values at x but not invariant: the reason names the transform."""
    monkeypatch.delenv(STRICT_ENV, raising=False)
    ref = nb01.reference_sq_distance_sum
    # right on the checker's cloud, wrong elsewhere: adds a term that vanishes only at that cloud's centroid
    h, x, _ = nb01._cloud()
    c = x.mean(0)
    res = check("1.1", lambda y: ref(y) + ((y.mean(0) - c) ** 2).sum())
    assert res.status == "not yet" and "translation" in res.message


def test_crashing_answer_reported(monkeypatch):
    monkeypatch.delenv(STRICT_ENV, raising=False)
    res = check("1.1", lambda x: x.no_such_method())
    assert res.status == "not yet" and "AttributeError" in res.message


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv(STRICT_ENV, "strict")
    with pytest.raises(AssertionError, match="not attempted"):
        check("1.1", stub)
    assert check("1.3", {"translation"}).passed


def test_unknown_exercise():
    with pytest.raises(KeyError, match="no exercise"):
        check("9.9", stub)


def test_duplicate_registration_refused():
    with pytest.raises(ValueError, match="twice"):
        exercises.exercise("1.1", "again")(lambda a: "")


def test_compare_voice(capsys):
    a = torch.tensor([1.0, 2.0], dtype=torch.float64)
    compare("same", a, a.clone())
    compare("rounding", a, a + 1e-15)
    compare("different", a, a + 1e-3)
    compare("shape", a, a[:1])
    out = capsys.readouterr().out.splitlines()
    assert "exact" in out[0] and "up to rounding" in out[1] and "DIFFERENT" in out[2] and "shapes differ" in out[3]


def test_every_registered_exercise_answers_the_stub(lenient_exercises):
    """Every checker of every notebook says "not attempted" to the committed stub."""
    from exercise_tools import stub as committed_stub

    ids = registered()
    assert {f"{n}.{k}" for n in (1, 2, 3) for k in (1, 2, 3)} <= set(ids)
    for exercise_id in ids:
        assert check(exercise_id, committed_stub).status == "not attempted", exercise_id
