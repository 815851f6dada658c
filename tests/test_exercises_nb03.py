"""The checkers of notebook 03's exercises: a right answer is "correct", a wrong one is "not yet"
with a reason that names what failed, and the committed stub is "not attempted"."""

import itertools
import math

import pytest
import torch

from exercise_tools import verdict
from egnn_lite.exercises.nb03 import PAIRS, distance_only_readout, distinguishable_truth, pair_graphs
from egnn_lite.harmonics import all_spherical_harmonics, spherical_harmonics

C1 = math.sqrt(3 / (4 * math.pi))


pytestmark = pytest.mark.usefixtures("lenient_exercises")



# ---------------------------------------------------------------- 3.1 Y_1 from the unit vector


def unit(x):
    return x / torch.linalg.vector_norm(x, dim=1, keepdim=True)


def Y1(x):
    return C1 * unit(x)[:, [1, 2, 0]]


def test_Y1_correct():
    status, message = verdict("3.1", Y1)
    assert status == "correct", message
    assert verdict("3.1", lambda x: spherical_harmonics(1, x))[0] == "correct"


def test_Y1_float32_is_accepted():
    # computed in float32 and returned as float32: held to float32's precision, and correct
    status, message = verdict("3.1", lambda x: Y1(x.float()))
    assert status == "correct" and "float32" in message, message
    # computed in float32 but returned as float64: told to compute in float64
    status, message = verdict("3.1", lambda x: Y1(x.float()).double())
    assert status == "not yet" and "float64" in message, message


@pytest.mark.parametrize("perm", [p for p in itertools.permutations(range(3)) if p != (1, 2, 0)])
def test_Y1_any_wrong_order_is_named(perm):
    status, message = verdict("3.1", lambda x: C1 * unit(x)[:, list(perm)])
    order = "(" + ", ".join("xyz"[k] for k in perm) + ")"
    assert status == "not yet" and "wrong order" in message and order in message and "L1_AXES" in message, message


@pytest.mark.parametrize(
    "answer, names",
    [
        (lambda x: C1 * unit(x), "(y, z, x)"),  # xyz order
        (lambda x: unit(x)[:, [1, 2, 0]], "normalisation"),
        (lambda x: C1 * x[:, [1, 2, 0]], "divided by its length"),
        (lambda x: -C1 * unit(x)[:, [1, 2, 0]], "sign"),
        (lambda x: 2 * Y1(x), "right directions and order, but off by a factor 2"),
        (lambda x: 0.5 * C1 * unit(x)[:, [2, 1, 0]], "wrong order"),
        (lambda x: Y1(x) + 0.01, "differ"),
        (lambda x: Y1(x)[:2], "shape"),
        (lambda x: Y1(x).numpy(), "torch tensor"),
    ],
)
def test_Y1_wrong(answer, names):
    status, message = verdict("3.1", answer)
    assert status == "not yet" and names in message, message


# ---------------------------------------------------------------- 3.2 power spectrum


def power_spectrum(x, l_max):
    c = [Y.sum(dim=0) for Y in all_spherical_harmonics(x - x.mean(dim=0), l_max)]
    return torch.stack([(cl * cl).sum() for cl in c])


def test_power_spectrum_correct():
    status, message = verdict("3.2", power_spectrum)
    assert status == "correct", message


def coefficient_sums(x, l_max):  # sum over m of c_lm: not invariant
    return torch.stack([Y.sum() for Y in all_spherical_harmonics(x - x.mean(dim=0), l_max)])


@pytest.mark.parametrize(
    "answer, names",
    [
        (lambda x, l_max: torch.stack([(Y.sum(0) ** 2).sum() for Y in all_spherical_harmonics(x, l_max)]), "translation"),
        (coefficient_sums, "rotation"),
        (lambda x, l_max: power_spectrum(x, l_max).sqrt(), "its square"),
        (lambda x, l_max: 2 * power_spectrum(x, l_max), "values differ"),
        (lambda x, l_max: power_spectrum(x, l_max)[:-1], "shape"),
    ],
)
def test_power_spectrum_wrong(answer, names):
    status, message = verdict("3.2", answer)
    assert status == "not yet" and names in message, message


# ---------------------------------------------------------------- 3.3 classical MDS


def mds(D, n, factor=-0.5, square=True, largest=True, clamp=True):
    N = D.shape[0]
    J = torch.eye(N, dtype=D.dtype) - 1.0 / N
    G = factor * J @ (D**2 if square else D) @ J
    ev, V = torch.linalg.eigh(G)
    if largest:
        ev, V = ev.flip(0), V.flip(1)
    ev, V = ev[:n], V[:, :n]
    return V * (ev.clamp(min=0) if clamp else ev).sqrt()


def test_mds_correct():
    status, message = verdict("3.3", mds)
    assert status == "correct", message


def test_mds_cases_need_the_clamp():
    # the inconsistent line: whatever the platform's rounding, the third largest eigenvalue of G is clearly negative
    from egnn_lite.exercises.nb03 import _mds_cases

    D, n, _ = _mds_cases()[-1]
    N = D.shape[0]
    J = torch.eye(N, dtype=D.dtype) - 1.0 / N
    third = torch.linalg.eigvalsh(-0.5 * J @ (D * D) @ J).flip(0)[n - 1]
    assert third < -1e-10, third


@pytest.mark.parametrize(
    "answer, names",
    [
        (lambda D, n: mds(D, n, factor=-1.0), "sqrt(2) too long"),
        (lambda D, n: mds(D, n, factor=-0.25), "sqrt(2) too short"),
        (lambda D, n: mds(D, n, square=False), "differs from D"),
        (lambda D, n: mds(D, n, largest=False), "LARGEST"),
        (lambda D, n: mds(D, n)[:, :2], "shape"),
        (lambda D, n: torch.full((D.shape[0], n), float("nan"), dtype=D.dtype), "NaN"),
        (lambda D, n: mds(D, n, clamp=False), "clamp"),  # the inconsistent line makes a zero eigenvalue negative
        (lambda D, n: mds(D, n, factor=0.5), "sign"),
    ],
)
def test_mds_wrong(answer, names):
    status, message = verdict("3.3", answer)
    assert status == "not yet" and names in message, message


# ---------------------------------------------------------------- 3.4 which pairs


def test_pair_truth_is_what_the_notebook_says():
    assert distinguishable_truth() == {"a": False, "b": True, "c": False, "d": True, "e": False, "f": True}


def test_pairs_are_what_they_claim():
    # a: both graphs 2-regular with every edge of length 1; d: the rhombus has one edge more (its short diagonal)
    for name in ("a", "e"):
        xa, ea, xb, eb = pair_graphs(name)
        for x, e in ((xa, ea), (xb, eb)):
            assert torch.bincount(e[0]).tolist() == [2] * x.shape[0]
            assert torch.allclose(torch.linalg.vector_norm(x[e[0]] - x[e[1]], dim=1), torch.ones(e.shape[1], dtype=x.dtype))
    xa, ea, xb, eb = pair_graphs("d")
    assert ea.shape[1] == 8 and eb.shape[1] == 10
    # c: a mirror image has the same distance matrix
    xa, _, xb, _ = pair_graphs("c")
    assert torch.allclose(torch.cdist(xa, xa), torch.cdist(xb, xb))
    # the readout is a network of distances only: invariant under E(3)
    from egnn_lite.groups import random_orthogonal

    xa, ea, _, _ = pair_graphs("b")
    Q = random_orthogonal(3, -1, generator=0)
    assert torch.allclose(distance_only_readout(xa, ea), distance_only_readout(xa @ Q.T + 1.0, ea), rtol=1e-12, atol=1e-12)


def test_pairs_correct():
    answer = {"a": False, "b": True, "c": False, "d": True, "e": False, "f": True}
    assert verdict("3.4", lambda: answer)[0] == "correct"
    assert verdict("3.4", answer)[0] == "correct"
    assert verdict("3.4", {"a": "no", "b": "yes", "c": "cannot", "d": "can", "e": 0, "f": 1})[0] == "correct"
    assert set(PAIRS) == set(answer)


RIGHT = {"a": False, "b": True, "c": False, "d": True, "e": False, "f": True}


@pytest.mark.parametrize(
    "answer, names",
    [
        ({"a": False, "b": True, "c": False, "d": True, "e": False}, "no answer for pair 'f'"),
        ({"a": "maybe", "b": True, "c": False, "d": True, "e": False, "f": True}, "True (can tell apart)"),
        ([False, True], "dict"),
    ],
)
def test_pairs_wrong(answer, names):
    status, message = verdict("3.4", lambda: answer)
    assert status == "not yet" and names in message, message


def test_pairs_checker_does_not_give_the_key_away():
    # a wrong answer hears how many are right and one question per pair, the same whichever pairs are wrong
    one_wrong = [verdict("3.4", {**RIGHT, name: not RIGHT[name]}) for name in RIGHT]
    assert all(status == "not yet" and "5 of 6 right" in message for status, message in one_wrong)
    assert len({message for _, message in one_wrong}) == 1
    status, message = verdict("3.4", {**RIGHT, "a": True, "d": False})
    assert status == "not yet" and "4 of 6 right" in message, message
    assert "short diagonal" in message and "mirror image" in message and "multisets of distances" in message
    assert "distinguishable" not in message
