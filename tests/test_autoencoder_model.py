"""The autoencoder's decoder and the paper's scores, against direct computations."""

import math

import pytest
import torch

from egnn_lite.autoencoder.model import DistanceDecoder, reconstruction_scores
from egnn_lite.groups import random_orthogonal


def test_decoder_is_the_formula_and_reads_distances_only():
    torch.manual_seed(0)
    dec = DistanceDecoder(w_init=-0.7, b_init=0.3).double()
    z = torch.randn(6, 8, dtype=torch.float64)
    A = dec(z)
    w, b = dec.w.item(), dec.b.item()
    for i in range(6):
        for j in range(6):
            want = 0.0 if i == j else 1 / (1 + math.exp(-(w * float(((z[i] - z[j]) ** 2).sum()) + b)))
            assert A[i, j].item() == pytest.approx(want, rel=1e-12)
    Q = random_orthogonal(8, det=-1, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(dec(z @ Q.T + 3.0), A)  # E(8) acting on z: A_hat unchanged
    perm = torch.randperm(6, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(dec(z[perm]), A[perm][:, perm])  # relabel nodes: rows and columns follow
    # negative control: a decoder reading raw coordinates is not invariant
    raw = torch.sigmoid(z @ z.T)
    assert (torch.sigmoid((z @ Q.T + 3.0) @ (z @ Q.T + 3.0).T) - raw).abs().max() > 1e-3


def brute(preds, targets):
    bce, wrong, possible, tp, fp, fn = 0.0, 0, 0, 0, 0, 0
    for p, t in zip(preds, targets):
        n = len(t)
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                q, y = float(p[i, j]), float(t[i, j])
                bce -= y * math.log(q) + (1 - y) * math.log(1 - q)
                hard = q > 0.5
                wrong += hard != bool(y)
                possible += 1
                tp += hard and bool(y)
                fp += hard and not y
                fn += (not hard) and bool(y)
    return bce / len(preds), wrong / possible, tp / (tp + (fp + fn) / 2)


def test_scores_match_a_brute_force_count():
    gen = torch.Generator().manual_seed(3)
    targets, preds = [], []
    for n in (5, 9, 12):
        t = torch.rand(n, n, generator=gen) < 0.3
        t = (t | t.T) & ~torch.eye(n, dtype=torch.bool)
        targets.append(t)
        preds.append(torch.rand(n, n, generator=gen, dtype=torch.float64) * 0.98 + 0.01)
    s = reconstruction_scores(preds, targets)
    bce, err, f1 = brute(preds, targets)
    assert s.bce == pytest.approx(bce, rel=1e-10) and s.error == pytest.approx(err) and s.f1 == pytest.approx(f1)
    assert s.tp + s.fn == sum(int(t.sum()) for t in targets)


def test_all_zero_baseline_and_perfect_prediction():
    t = torch.tensor([[0, 1, 1], [1, 0, 0], [1, 0, 0]], dtype=torch.bool)
    zero = reconstruction_scores([torch.zeros(3, 3, dtype=torch.float64)], [t])
    assert zero.error == pytest.approx(4 / 6) and zero.f1 == 0.0  # the error of "no edges" is the edge density
    perfect = reconstruction_scores([t.double()], [t])
    assert perfect.error == 0.0 and perfect.f1 == 1.0 and perfect.bce == 0.0
    assert "% error 0.00" in str(perfect)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="as many predictions"):
        reconstruction_scores([], [])
    with pytest.raises(ValueError, match=r"\(N, N\)"):
        reconstruction_scores([torch.zeros(3, 4)], [torch.zeros(3, 4)])
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        DistanceDecoder()(torch.zeros(3))
