"""The N-body models' inputs (as in the paper's code), their equivariance, and a short training run."""

import pytest
import torch

from egnn_lite.checks import check_equivariance
from egnn_lite.graphs import fully_connected
from egnn_lite.nbody.data import load_split
from egnn_lite.nbody.train import MODELS, Batch, build_model, make_batch, mse, predict, train_model

EQUIVARIANT = ("linear", "radial_field", "egnn", "egnn_vel")


@pytest.fixture(scope="module")
def data():
    return load_split("train")[:200], load_split("valid")[:100]


def test_batches_stack_trajectories(data):
    b = make_batch(data[0], slice(0, 7))
    assert b.x.shape == b.v.shape == b.target.shape == (35, 3) and b.q.shape == (35,)
    assert b.edge_index.shape == (2, 7 * 20) and b.num_graphs == 7
    assert torch.equal(b.target.reshape(7, 5, 3), data[0].state(40)[0][:7])


@pytest.mark.parametrize("name", MODELS)
def test_every_model_predicts_positions(name, data):
    torch.manual_seed(0)
    model = build_model(name)
    b = make_batch(data[0], slice(0, 4))
    out = predict(model, name, b)
    assert out.shape == (20, 3) and torch.isfinite(out).all()


def _as_function(model, name):
    """predict() as f(h, x, edge_index, v) for the harness; the charges ride in h."""

    def f(h, x, edge_index, v):
        return predict(model, name, Batch(x, v, h[:, 0], edge_index, torch.zeros_like(x)))

    return f


@pytest.mark.parametrize("name", EQUIVARIANT)
def test_the_equivariant_models_are_equivariant_with_their_nbody_inputs(name, data):
    torch.manual_seed(1)
    model = build_model(name).double()
    x, v = (t[0].double() for t in data[0].state(30))
    q = data[0].q[0].double().unsqueeze(1)
    report = check_equivariance(_as_function(model, name), q, x, fully_connected(5), v=v, outputs=("position",))
    assert report.passed, report


def test_the_gnn_is_not(data):
    torch.manual_seed(1)
    model = build_model("gnn").double()
    x, v = (t[0].double() for t in data[0].state(30))
    q = data[0].q[0].double().unsqueeze(1)
    report = check_equivariance(_as_function(model, "gnn"), q, x, fully_connected(5), v=v, outputs=("position",))
    assert report.worst("rotation") > 1e-3 and report.worst("permutation") < 1e-6


def test_a_short_training_run_improves_on_the_start(data):
    train, valid = data
    torch.manual_seed(0)
    before = mse(build_model("egnn_vel"), "egnn_vel", valid)
    model, hist = train_model("egnn_vel", train, valid, epochs=4, eval_every=2, progress=False)
    assert hist.val_epochs == [2, 4] and hist.best_val < 0.8 * before
    assert mse(model, "egnn_vel", valid) == pytest.approx(hist.best_val, rel=1e-6)


def test_unknown_model():
    with pytest.raises(ValueError, match="unknown model"):
        build_model("transformer")


def test_time_reversed_pairs_are_the_dynamics_run_backwards(data):
    from egnn_lite.nbody import simulate
    from egnn_lite.nbody.train import time_reversed

    d = data[0][:40]
    rev = time_reversed(d)
    x_start, v_start = rev.state(30)
    X, _ = simulate(x_start.double(), v_start.double(), d.q.double(), [9])  # frame 9 = 1,000 steps
    target = rev.state(40)[0].double()
    assert torch.equal(target, d.state(30)[0].double()) and torch.equal(x_start, d.state(40)[0])
    err = ((X[:, 0] - target) ** 2).mean().item()
    assert err < 2e-4  # vs the forward displacement's ~0.24: reversal holds up to the integrator's dt^2 terms
    assert ((d.state(40)[0] - d.state(30)[0]) ** 2).mean().item() > 100 * err


def test_training_with_time_reversal_doubles_the_pairs(data, monkeypatch):
    import egnn_lite.nbody.train as nbody_train

    seen = {}
    real_fit = nbody_train.fit

    def spy(model, loss, n_train, **kw):
        seen["n_train"] = n_train
        return real_fit(model, loss, n_train, **kw)

    monkeypatch.setattr(nbody_train, "fit", spy)
    train, valid = data
    train_model("linear", train[:50], valid[:20], epochs=1, eval_every=1, progress=False, time_reversal=True)
    assert seen["n_train"] == 100
    train_model("linear", train[:50], valid[:20], epochs=1, eval_every=1, progress=False)
    assert seen["n_train"] == 50
