"""ROC curve and AUC, against a brute-force count over all (edge, non-edge) pairs."""

import numpy as np
import pytest
import torch

from egnn_lite.metrics import roc_auc, roc_curve


def brute_auc(s, y):
    pos, neg = s[y], s[~y]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return wins / (len(pos) * len(neg))


@pytest.mark.parametrize("seed", range(5))
def test_auc_equals_the_pairwise_count_with_ties(seed):
    rng = np.random.default_rng(seed)
    y = rng.random(200) < 0.3
    s = np.round(rng.normal(size=200) + y, 1)  # rounded: many ties
    assert roc_auc(s, y) == pytest.approx(brute_auc(s, y), abs=1e-12)


def test_auc_extremes_and_tensors():
    y = torch.tensor([0, 0, 1, 1, 0, 1])
    s = y.float() + 0.1 * torch.arange(6)
    assert roc_auc(s, y) == 1.0
    assert roc_auc(-s, y) == 0.0
    assert roc_auc(torch.ones(6), y) == 0.5


def test_curve_runs_corner_to_corner_and_its_area_is_the_auc():
    rng = np.random.default_rng(0)
    y = rng.random(300) < 0.4
    s = np.round(rng.normal(size=300) + 1.5 * y, 1)
    fpr, tpr, thr = roc_curve(s, y)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert (np.diff(fpr) >= 0).all() and (np.diff(tpr) >= 0).all() and (np.diff(thr) < 0).all()
    assert np.trapezoid(tpr, fpr) == pytest.approx(roc_auc(s, y), abs=1e-12)


@pytest.mark.parametrize(
    "scores, labels, match",
    [([0.1, 0.2], [1, 1], "both classes"), ([0.1, 0.2], [0, 2], "0/1"), ([0.1], [0, 1], "differ"), ([np.nan, 1], [0, 1], "nan")],
)
def test_bad_input_is_named(scores, labels, match):
    with pytest.raises(ValueError, match=match):
        roc_auc(scores, labels)
