"""Scores for predicted graphs: the ROC curve and its area (notebook 04's e_ij against the true edges).

ROC AUC is the probability that a randomly chosen true edge gets a higher score than a randomly
chosen non-edge (ties count one half). 1 is a perfect ranking, 0.5 is chance, and 0 a perfect
ranking upside down. It needs no threshold, which suits e_ij: the paper never asks the soft
edges to be 0 or 1, only to weight the messages.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.stats import rankdata

__all__ = ["roc_curve", "roc_auc"]


def _scores_and_labels(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    s = scores.detach().cpu().numpy() if isinstance(scores, torch.Tensor) else np.asarray(scores)
    y = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    s, y = s.reshape(-1).astype(np.float64), y.reshape(-1)
    if s.shape != y.shape:
        raise ValueError(f"scores and labels differ in size: {s.size} and {y.size}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0/1 or booleans")
    y = y.astype(bool)
    if y.all() or not y.any():
        raise ValueError("the ROC needs both classes: every label is the same")
    if not np.isfinite(s).all():
        raise ValueError("scores contain inf or nan")
    return s, y


def roc_auc(scores, labels) -> float:
    """Area under the ROC curve (the Mann-Whitney U statistic, ties counted one half)."""
    s, y = _scores_and_labels(scores, labels)
    ranks = rankdata(s)  # average ranks for ties
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_curve(scores, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False-positive rate, true-positive rate and threshold for every distinct score, from (0, 0) to (1, 1).

    A pair is predicted an edge when its score is >= the threshold.
    """
    s, y = _scores_and_labels(scores, labels)
    order = np.argsort(-s, kind="mergesort")
    s, y = s[order], y[order]
    last_of_run = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]  # the last index of each group of equal scores
    tp = np.cumsum(y)[last_of_run]
    fp = (last_of_run + 1) - tp
    tpr = np.r_[0.0, tp / y.sum()]
    fpr = np.r_[0.0, fp / (~y).sum()]
    thresholds = np.r_[np.inf, s[last_of_run]]
    return fpr, tpr, thresholds
