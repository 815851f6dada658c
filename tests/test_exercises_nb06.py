"""The checkers of notebook 06's exercises: right answers are "correct", each typical mistake is
"not yet" with a reason that names it."""

import numpy as np
import pytest
import torch

from exercise_tools import assert_named, stub, verdict

pytestmark = pytest.mark.usefixtures("lenient_exercises")


def assert_correct(exercise_id, answers, words):
    for answer in answers:
        status, message = verdict(exercise_id, answer)
        assert status == "correct" and words in message, message


# ---------------------------------------------------------------- reference solutions (as revealed in the notebook)


def decode(z, w, b):
    d2 = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)  # (N, N) squared distances
    off_diagonal = 1 - torch.eye(len(z), dtype=z.dtype)
    return torch.sigmoid(w * d2 + b) * off_diagonal


def edge_scores(preds, targets):
    wrong = possible = tp = fp = fn = 0
    for p, t in zip(preds, targets):
        off = ~torch.eye(len(p), dtype=torch.bool)  # the diagonal is not scored
        hard, truth = p[off] > 0.5, torch.as_tensor(t)[off].bool()
        wrong += (hard != truth).sum().item()
        possible += off.sum().item()
        tp += (hard & truth).sum().item()
        fp += (hard & ~truth).sum().item()
        fn += (~hard & truth).sum().item()
    return wrong / possible, tp / (tp + (fp + fn) / 2)


def colour_refinement(A):
    A = np.asarray(A).astype(bool)
    colours = np.zeros(len(A), dtype=int)  # every node starts with the same colour
    while True:
        keys = [(colours[i], tuple(sorted(colours[A[i]]))) for i in range(len(A))]
        table = {key: c for c, key in enumerate(sorted(set(keys)))}
        new = np.array([table[key] for key in keys])
        if len(table) == len(set(colours)):  # no class split: done
            return new
        colours = new


# ---------------------------------------------------------------- 6.1 the distance decoder


def decode_cdist(z, w, b):
    A = torch.sigmoid(w * torch.cdist(z, z) ** 2 + b)
    return A.fill_diagonal_(0.0)


def decode_loops(z, w, b):
    N = len(z)
    A = torch.zeros(N, N, dtype=z.dtype)
    for i in range(N):
        for j in range(N):
            if i != j:
                A[i, j] = torch.sigmoid(w * ((z[i] - z[j]) ** 2).sum() + b)
    return A


def test_decode_correct():
    assert_correct("6.1", (decode, decode_cdist, decode_loops), "z Q^T + g")


def not_invariant_after_three_calls():
    """Right on the checker's three inputs, a dot product on every later one: only the transforms catch it."""
    calls = []

    def answer(z, w, b):
        calls.append(1)
        if len(calls) <= 3:
            return decode(z, w, b)
        return torch.sigmoid(w * z @ z.T + b) * (1 - torch.eye(len(z), dtype=z.dtype))

    return answer


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda z, w, b: torch.sigmoid(w * ((z[:, None] - z[None]) ** 2).sum(-1) + b), "not zeroed"),
        (lambda z, w, b: torch.sigmoid(w * torch.cdist(z, z) + b).fill_diagonal_(0), "plain distance"),
        (lambda z, w, b: torch.sigmoid(w * torch.cdist(z, z) + b), ("plain distance", "; and the diagonal was not zeroed")),
        (lambda z, w, b: decode(z, b, w), "swapped"),
        (lambda z, w, b: torch.sigmoid(w * z @ z.T + b).fill_diagonal_(0), "not invariant under translation"),
        (lambda z, w, b: torch.sigmoid(w * z @ z.T + b), ("not invariant under translation", "; and the diagonal should be 0")),
        (lambda z, w, b: (w * torch.cdist(z, z) ** 2 + b).fill_diagonal_(0), "sigmoid is missing"),
        (lambda z, w, b: decode(z, w, b).fill_diagonal_(0.5), "diagonal should be 0"),
        (lambda z, w, b: decode(z, 1.01 * w, b), "differs from sigmoid"),
        (lambda z, w, b: decode(z, w, b).float(), "float32"),
        (lambda z, w, b: decode(z, w, b).numpy(), "torch tensor"),
        (lambda z, w, b: decode(z, w, b)[:-1], "shape"),
        (not_invariant_after_three_calls(), "z -> z Q^T + g"),
        (stub, None),
    ],
)
def test_decode_mistakes_are_named(answer, words):
    assert_named("6.1", answer, words)


def test_decode_relabelling_is_checked():
    """Right on the plain inputs and under z Q^T + g, but rows not permuted with the nodes: the relabelling catches it."""
    calls = []

    def answer(z, w, b):
        calls.append(1)
        A = decode(z, w, b)
        return A if len(calls) <= 6 else A.flip(0).flip(1)

    assert_named("6.1", answer, "relabelling")


# ---------------------------------------------------------------- 6.2 % error and F1, pooled


def edge_scores_numpy(preds, targets):
    counts = np.zeros(5)
    for p, t in zip(preds, targets):
        off = ~np.eye(len(t), dtype=bool)
        hard, truth = p.numpy()[off] > 0.5, np.asarray(t)[off] == 1
        counts += [(hard != truth).sum(), off.sum(), (hard & truth).sum(), (hard & ~truth).sum(), (~hard & truth).sum()]
    wrong, possible, tp, fp, fn = counts
    return wrong / possible, tp / (tp + 0.5 * (fp + fn))


def with_diagonal(preds, targets):
    """Scores every entry, the diagonal too."""
    wrong = possible = tp = fp = fn = 0
    for p, t in zip(preds, targets):
        hard, truth = p > 0.5, torch.as_tensor(t).bool()
        wrong += (hard != truth).sum().item()
        possible += hard.numel()
        tp += (hard & truth).sum().item()
        fp += (hard & ~truth).sum().item()
        fn += (~hard & truth).sum().item()
    return wrong / possible, tp / (tp + (fp + fn) / 2)


def over_n_squared(preds, targets):
    """The diagonal zeroed, but the entries counted over all N^2 of them."""
    err, f1 = edge_scores(preds, targets)
    possible_off = sum(len(t) * (len(t) - 1) for t in targets)
    return err * possible_off / sum(len(t) ** 2 for t in targets), f1


def per_graph(preds, targets):
    scores = [edge_scores([p], [t]) for p, t in zip(preds, targets)]
    return float(np.mean([s[0] for s in scores])), float(np.mean([s[1] for s in scores]))


def per_graph_error_only(preds, targets):
    return per_graph(preds, targets)[0], edge_scores(preds, targets)[1]


def test_edge_scores_correct():
    assert_correct("6.2", (edge_scores, edge_scores_numpy, lambda P, T: tuple(torch.tensor(v) for v in edge_scores(P, T))), "pooled")


@pytest.mark.parametrize(
    "answer, words",
    [
        (with_diagonal, "diagonal is counted"),
        (over_n_squared, "diagonal is counted"),
        (lambda P, T: (with_diagonal(P, T)[0], edge_scores(P, T)[1]), "diagonal is counted"),
        (per_graph, "per-graph averages"),
        (per_graph_error_only, "per-graph averages"),
        (lambda P, T: (per_graph(P, T)[0], with_diagonal(P, T)[1]), ("per-graph averages", "; and the diagonal is counted")),
        (lambda P, T: (100 * edge_scores(P, T)[0], edge_scores(P, T)[1]), "in %"),
        (lambda P, T: (100 * per_graph(P, T)[0], per_graph(P, T)[1]), "in %"),
        (lambda P, T: edge_scores(P, T)[::-1], "swapped"),
        (lambda P, T: (edge_scores(P, T)[0], 0.9 * edge_scores(P, T)[1]), "F1 should be"),
        (lambda P, T: edge_scores(P, T)[0], "two numbers"),
        (lambda P, T: (edge_scores(P, T)[0], "0.87"), "should be a number"),
        (lambda P, T: (torch.zeros(2), 0.5), "one number"),
        (stub, None),
    ],
)
def test_edge_scores_mistakes_are_named(answer, words):
    assert_named("6.2", answer, words)


# ---------------------------------------------------------------- 6.3 colour refinement


def one_round(A):
    """New colour = (old colour, multiset of the neighbours' colours), once: the degree classes."""
    A = np.asarray(A).astype(bool)
    keys = [(0, tuple(sorted([0] * int(A[i].sum())))) for i in range(len(A))]
    table = {key: c for c, key in enumerate(sorted(set(keys)))}
    return np.array([table[key] for key in keys])


def as_set(A):
    A = np.asarray(A).astype(bool)
    colours = np.zeros(len(A), dtype=int)
    while True:
        keys = [(colours[i], tuple(sorted(set(colours[A[i]])))) for i in range(len(A))]
        table = {key: c for c, key in enumerate(sorted(set(keys)))}
        new = np.array([table[key] for key in keys])
        if len(table) == len(set(colours)):
            return new
        colours = new


def neighbours_only(A):
    """A node's own colour left out of its key: the same final classes (each round refines the last)."""
    A = np.asarray(A).astype(bool)
    colours = np.zeros(len(A), dtype=int)
    while True:
        keys = [tuple(sorted(colours[A[i]])) for i in range(len(A))]
        table = {key: c for c, key in enumerate(sorted(set(keys)))}
        new = np.array([table[key] for key in keys])
        if len(table) == len(set(colours)):
            return new
        colours = new


def two_rounds(A):
    A = np.asarray(A).astype(bool)
    colours = np.zeros(len(A), dtype=int)
    for _ in range(2):
        keys = [(colours[i], tuple(sorted(colours[A[i]]))) for i in range(len(A))]
        table = {key: c for c, key in enumerate(sorted(set(keys)))}
        colours = np.array([table[key] for key in keys])
    return colours


def test_colour_refinement_correct():
    answers = (colour_refinement, lambda A: 7 * colour_refinement(A) + 3, lambda A: torch.tensor(colour_refinement(A)), neighbours_only)
    assert_correct("6.3", answers, "Community Small")


@pytest.mark.parametrize(
    "answer, words",
    [
        (one_round, "only one round"),
        (as_set, "as a set"),
        (two_rounds, "stop too early"),
        (lambda A: np.zeros(len(A), dtype=int), "stop too early"),
        (lambda A: np.arange(len(A)), "no round of refinement can tell them apart"),
        (lambda A: colour_refinement(A)[:-1], "shape"),
        (lambda A: colour_refinement(A).astype(float), "integers"),
        (lambda A: None, "shape"),
        (stub, None),
    ],
)
def test_colour_refinement_mistakes_are_named(answer, words):
    assert_named("6.3", answer, words)


def test_colour_refinement_other_mistakes_are_located():
    """Neither coarser nor finer: the message names the graph and a pair of nodes."""
    def shuffled(A):
        c = colour_refinement(A)
        return np.roll(c, 1) if len(A) == 5 else c

    assert_named("6.3", shuffled, "on a path of 5 nodes: your classes differ")
