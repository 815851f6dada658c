"""Helpers shared by the tests of the exercise checkers (tests/test_exercises*.py)."""

from egnn_lite.exercises import check


def stub(*args):
    """An exercise cell as committed: the reader has not answered yet."""
    raise NotImplementedError


def verdict(exercise_id, answer):
    """(status, message) of ``check``: "correct", "not yet" or "not attempted"."""
    result = check(exercise_id, answer)
    return result.status, result.message


def assert_named(exercise_id, answer, words):
    """A stub (``words`` None) is "not attempted"; a mistake is "not yet", with ``words`` (a string, or a
    tuple of them) in the reason."""
    status, message = verdict(exercise_id, answer)
    if words is None:
        assert status == "not attempted"
    else:
        words = (words,) if isinstance(words, str) else words
        assert status == "not yet" and all(w in message for w in words), message
