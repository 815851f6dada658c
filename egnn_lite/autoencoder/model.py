"""The autoencoder's decoder and scores (paper Sec. 5.2), as the paper defines them.

    decoder   A_hat_ij = sigmoid(w ||z_i - z_j||^2 + b), two learned scalars (the official code starts at
              w = -0.1, b = 1); the diagonal is set to 0 (a node is not its own neighbour)
    scores    BCE summed over a graph's entries and averaged over graphs; % error = wrong off-diagonal
              entries (threshold 0.5) over all off-diagonal entries, pooled over the set; F1 = TP /
              (TP + (FP + FN) / 2), pooled over the set
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = ["DistanceDecoder", "ReconstructionScores", "reconstruction_scores"]


class DistanceDecoder(nn.Module):
    """A_hat_ij = sigmoid(w ||z_i - z_j||^2 + b) with zeros on the diagonal: (N, K) embeddings -> (N, N).

    It reads only distances between embeddings, so if z is E(n)-equivariant (EGNN's output
    coordinates), A_hat is invariant; and relabelling the nodes permutes its rows and columns.
    """

    def __init__(self, w_init: float = -0.1, b_init: float = 1.0):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(float(w_init)))
        self.b = nn.Parameter(torch.tensor(float(b_init)))

    def forward(self, z: Tensor) -> Tensor:
        if z.dim() != 2:
            raise ValueError(f"z must have shape (N, K), got {tuple(z.shape)}")
        d2 = ((z.unsqueeze(0) - z.unsqueeze(1)) ** 2).sum(-1)
        off = 1.0 - torch.eye(z.shape[0], dtype=z.dtype, device=z.device)
        return torch.sigmoid(self.w * d2 + self.b) * off


@dataclass
class ReconstructionScores:
    """The paper's three numbers for a set of graphs, and the counts behind them."""

    bce: float  # summed over each graph's entries, averaged over graphs
    error: float  # fraction of off-diagonal entries wrong at threshold 0.5 (the paper prints it in %)
    f1: float
    tp: int
    fp: int
    fn: int
    graphs: int

    def __str__(self) -> str:
        return f"BCE {self.bce:.2f}   % error {100 * self.error:.2f}   F1 {self.f1:.3f}   ({self.graphs} graphs)"


def reconstruction_scores(preds, targets) -> ReconstructionScores:
    """Score predicted adjacency probabilities (a list of (N, N) tensors, diagonal ignored) against the truth."""
    preds, targets = list(preds), list(targets)
    if len(preds) != len(targets) or not preds:
        raise ValueError(f"need as many predictions as targets, at least one; got {len(preds)} and {len(targets)}")
    bce, wrong, possible, tp, fp, fn = 0.0, 0, 0, 0, 0, 0
    for p, t in zip(preds, targets):
        t = torch.as_tensor(t).to(p.dtype)
        if p.shape != t.shape or p.dim() != 2 or p.shape[0] != p.shape[1]:
            raise ValueError(f"a prediction of shape {tuple(p.shape)} for a target of shape {tuple(t.shape)}; both must be (N, N)")
        off = ~torch.eye(p.shape[0], dtype=torch.bool, device=p.device)
        p_off, t_off = p[off].clamp(0.0, 1.0), t[off]
        bce += nn.functional.binary_cross_entropy(p_off, t_off, reduction="sum").item()
        hard = p_off > 0.5
        truth = t_off > 0.5
        wrong += int((hard != truth).sum())
        possible += int(off.sum())
        tp += int((hard & truth).sum())
        fp += int((hard & ~truth).sum())
        fn += int((~hard & truth).sum())
    f1 = tp / (tp + 0.5 * (fp + fn)) if tp + fp + fn else 1.0
    return ReconstructionScores(bce / len(preds), wrong / possible, f1, tp, fp, fn, len(preds))
