"""Auto-checks for the notebooks' exercises.

Each exercise in a notebook ends with a line such as ``check("1.2", my_answer)``. The checker
runs the reader's answer (usually a function) through the same harness the package tests use
(``egnn_lite.checks``) and against a reference, and shows one of three verdicts:

    correct         the answer has the property the exercise asks for;
    not yet         it ran but is wrong, with the reason (which transform failed, by how much);
    not attempted   the answer still raises NotImplementedError (the notebook runs on regardless).

The checkers live in one module per notebook (``nb01``, ``nb02``, ...), registered with
``@exercise("1.2", "title")``. With the environment variable ``EGNN_LITE_EXERCISES=strict``
(set by the notebook tests, which substitute every revealed solution into its exercise cell),
anything other than "correct" raises, so a wrong published solution fails the tests.
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import os
from dataclasses import dataclass
from typing import Any, Callable

STRICT_ENV = "EGNN_LITE_EXERCISES"
_CHECKER_MODULES = ("nb01", "nb02", "nb03", "nb04", "nb05", "nb06")
_REGISTRY: dict[str, tuple[str, Callable[[Any], str]]] = {}


class Incorrect(Exception):
    """Raised by a checker when the answer runs but is wrong; the message says why."""


def close(a, b, tol: float = 1e-10) -> bool:
    """Same shape, and equal up to ``tol`` relative to the larger of max |b| and 1 (checkers compare in float64)."""
    return a.shape == b.shape and bool(((a - b).abs().max() <= tol * b.abs().max().clamp_min(1.0)).item())


def describe(out) -> str:
    """"a tuple of 2", "a float", ...: what a reader's function returned, for a message."""
    return f"a {type(out).__name__} of {len(out)}" if isinstance(out, (tuple, list)) else f"a {type(out).__name__}"


def tensor_answer(out, name: str, shape: tuple):
    """A reader's tensor answer in float64, after checking that it is a finite tensor of ``shape``."""
    import torch

    if not isinstance(out, torch.Tensor):
        raise Incorrect(f"{name} should return a torch tensor, got {type(out).__name__}")
    if tuple(out.shape) != shape:
        raise Incorrect(f"{name} should return shape {shape}, got {tuple(out.shape)}")
    if not torch.isfinite(out).all():
        raise Incorrect(f"{name} returned NaN or inf")
    return out.to(torch.float64)


def exercise(exercise_id: str, title: str):
    """Register ``fn(answer) -> message`` as the checker of exercise ``exercise_id``."""

    def register(fn: Callable[[Any], str]) -> Callable[[Any], str]:
        if exercise_id in _REGISTRY:
            raise ValueError(f"exercise {exercise_id!r} is registered twice")
        _REGISTRY[exercise_id] = (title, fn)
        return fn

    return register


def _load() -> None:
    for name in _CHECKER_MODULES:  # one module per notebook; notebooks still being written have none yet
        if importlib.util.find_spec(f"{__name__}.{name}") is not None:
            importlib.import_module(f"{__name__}.{name}")


def registered() -> dict[str, str]:
    """Exercise id -> title, for every exercise that has a checker."""
    _load()
    return {k: title for k, (title, _) in sorted(_REGISTRY.items())}


@dataclass
class ExerciseResult:
    exercise_id: str
    title: str
    status: str  # "correct", "not yet", "not attempted"
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "correct"

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        mark = {"correct": "[correct]", "not yet": "[not yet]", "not attempted": "[not attempted]"}[self.status]
        return f"{mark} Exercise {self.exercise_id} ({self.title}): {self.message}"

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = {"correct": "#1a7f37", "not yet": "#cf222e", "not attempted": "#6e7781"}[self.status]
        return (
            f'<div style="border-left:4px solid {colour};padding:2px 8px">'
            f'<b style="color:{colour}">{html.escape(self.status)}</b> &middot; Exercise {html.escape(self.exercise_id)} '
            f"({html.escape(self.title)})<br>{html.escape(self.message)}</div>"
        )


def strict() -> bool:
    return os.environ.get(STRICT_ENV, "").lower() == "strict"


def check(exercise_id: str, answer: Any) -> ExerciseResult:
    """Check a reader's answer to exercise ``exercise_id`` and return the verdict (shown in the notebook)."""
    _load()
    if exercise_id not in _REGISTRY:
        raise KeyError(f"no exercise {exercise_id!r}; known: {', '.join(sorted(_REGISTRY))}")
    title, checker = _REGISTRY[exercise_id]
    try:
        result = ExerciseResult(exercise_id, title, "correct", checker(answer))
    except NotImplementedError:
        result = ExerciseResult(exercise_id, title, "not attempted", "replace the `raise NotImplementedError` with your answer and run the cell again.")
    except Incorrect as err:
        result = ExerciseResult(exercise_id, title, "not yet", str(err))
    except Exception as err:  # the reader's code crashed: say how, keep the notebook running
        result = ExerciseResult(exercise_id, title, "not yet", f"your answer raised {type(err).__name__}: {err}")
    if strict() and not result.passed:
        raise AssertionError(f"{STRICT_ENV}=strict: {result}")
    return result


__all__ = ["check", "exercise", "Incorrect", "ExerciseResult", "registered", "STRICT_ENV"]
