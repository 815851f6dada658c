"""The fit loop: it learns, keeps the best validation weights, stops early, is seeded; checkpoints round-trip."""

import math

import pytest
import torch
from torch import nn

from egnn_lite.training import History, fit, load_checkpoint, save_checkpoint, seed_everything


def toy(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=g)
    y = X @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    return X, y


def make(seed=0):
    seed_everything(seed)
    return nn.Sequential(nn.Linear(3, 16), nn.SiLU(), nn.Linear(16, 1))


def losses(X, y):
    train = lambda m, idx: ((m(X[idx]) - y[idx]) ** 2).mean()  # noqa: E731
    val = lambda m: ((m(X[:64]) - y[:64]) ** 2).mean().item()  # noqa: E731
    return train, val


def test_fit_learns_and_reports():
    X, y = toy()
    train, val = losses(X, y)
    model = make()
    before = val(model)
    hist = fit(model, train, len(X), val_loss=val, epochs=30, lr=1e-2, batch_size=32, progress=False)
    assert isinstance(hist, History) and hist.epochs == 30 and len(hist.val_loss) == 30
    assert hist.best_val < 0.05 * before
    assert hist.train_loss[-1] < hist.train_loss[0]
    assert "best validation" in repr(hist)


def test_fit_ends_with_the_best_validation_weights():
    X, y = toy()
    train, val = losses(X, y)
    model = make()
    hist = fit(model, train, len(X), val_loss=val, epochs=20, lr=0.3, batch_size=16, progress=False)  # noisy, large lr
    assert val(model) == pytest.approx(hist.best_val, rel=1e-6)
    assert hist.best_val == min(hist.val_loss)


def test_fit_is_seeded():
    X, y = toy()
    train, val = losses(X, y)
    a, b, c = make(1), make(1), make(1)
    ha = fit(a, train, len(X), epochs=3, lr=1e-2, batch_size=32, seed=7, progress=False)
    hb = fit(b, train, len(X), epochs=3, lr=1e-2, batch_size=32, seed=7, progress=False)
    hc = fit(c, train, len(X), epochs=3, lr=1e-2, batch_size=32, seed=8, progress=False)
    assert ha.train_loss == hb.train_loss
    assert ha.train_loss != hc.train_loss  # the shuffling follows the seed


def test_early_stopping():
    X, y = toy()
    train, _ = losses(X, y)
    hist = fit(make(), train, len(X), val_loss=lambda m: 1.0, epochs=50, patience=3, progress=False)
    assert hist.stopped_early and hist.epochs == 4 and hist.best_epoch == 1


def test_a_diverging_loss_stops_with_a_clear_error():
    X, y = toy()
    with pytest.raises(FloatingPointError, match="smaller lr"):
        fit(make(), lambda m, idx: m(X[idx]).mean() * math.inf, len(X), epochs=1, progress=False)


def test_progress_bar_runs(capsys):
    X, y = toy(64)
    train, val = losses(X, y)
    fit(make(), train, len(X), val_loss=val, epochs=2, progress=True, desc="toy")
    assert "toy" in capsys.readouterr().err


def test_checkpoint_round_trip(tmp_path):
    model = make(3)
    path = save_checkpoint(tmp_path / "sub" / "m.pt", model, epochs=5, name="toy", val=[0.1, 0.2])
    other = make(4)
    meta = load_checkpoint(path, other)
    assert meta == {"epochs": 5, "name": "toy", "val": [0.1, 0.2]}
    for p, q in zip(model.parameters(), other.parameters()):
        assert torch.equal(p, q)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt", other)
    with pytest.raises(TypeError, match="plain"):
        save_checkpoint(tmp_path / "bad.pt", model, version=torch.__version__)  # a TorchVersion, not a str
    torch.save([1, 2], tmp_path / "junk.pt")
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_checkpoint(tmp_path / "junk.pt", other)


@pytest.mark.parametrize("kwargs, match", [({"epochs": 0}, "epochs"), ({"batch_size": 0}, "batch_size"), ({"patience": 0}, "patience")])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fit(make(), lambda m, i: m(torch.zeros(1, 3)).sum(), 4, progress=False, **kwargs)


def test_cosine_schedule_ends_near_zero_and_is_checked():
    X, y = toy(64)
    train, _ = losses(X, y)

    def last_step(schedule):
        model, before = make(2), []

        def spy(m, idx):  # one batch per epoch: the weights before each step
            before.append(m[0].weight.detach().clone())
            return train(m, idx)

        fit(model, spy, len(X), epochs=10, lr=1e-2, batch_size=64, progress=False, lr_schedule=schedule)
        return (model[0].weight.detach() - before[-1]).abs().max().item()

    # Adam's steps are about lr each: at the 10th of 10 epochs the cosine lr is 2.4 % of the start
    assert last_step("cosine") < 0.1 * last_step(None)
    with pytest.raises(ValueError, match="lr_schedule"):
        fit(make(), train, len(X), epochs=1, progress=False, lr_schedule="step")


def test_ema_validates_and_returns_the_average():
    X, y = toy()
    train, val = losses(X, y)
    model = make(5)
    hist = fit(model, train, len(X), val_loss=val, epochs=6, lr=5e-2, batch_size=16, progress=False, ema_decay=0.9)
    assert val(model) == pytest.approx(hist.best_val, rel=1e-6)  # the returned weights are the validated (averaged) ones
    plain = make(5)
    fit(plain, train, len(X), val_loss=val, epochs=6, lr=5e-2, batch_size=16, progress=False)
    assert not torch.equal(plain[0].weight, model[0].weight)
    with pytest.raises(ValueError, match="ema_decay"):
        fit(make(), train, len(X), epochs=1, progress=False, ema_decay=1.0)


def test_grad_clip_bounds_the_step_and_is_checked():
    """One step on a loss with a gradient of norm 1e6: clipped, the gradient Adam sees has norm <= 1."""
    def run(grad_clip):
        torch.manual_seed(0)
        model = nn.Linear(3, 1)
        def loss(m, idx):
            return 1e6 * m(torch.ones(len(idx), 3)).sum()
        fit(model, loss, 1, epochs=1, batch_size=1, lr=0.0, progress=False, grad_clip=grad_clip)
        return math.sqrt(sum(float((p.grad ** 2).sum()) for p in model.parameters()))

    assert run(1.0) == pytest.approx(1.0, rel=1e-5)
    assert run(None) > 1e5  # negative control: unclipped
    with pytest.raises(ValueError, match="grad_clip"):
        fit(nn.Linear(1, 1), lambda m, i: m(torch.ones(1, 1)).sum(), 1, epochs=1, progress=False, grad_clip=0.0)
